//! The whole result as CSV (RFC 4180, a header row, UTF-8): what an e-mail attaches. Cells
//! are as Data Explorer sent them (datetimes in UTC, numbers unrounded) so the file can be
//! loaded elsewhere without loss; `csv` does the quoting.

use crate::report::message::Message;

/// The message's columns and rows as CSV bytes.
pub fn render(message: &Message) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(message.columns.iter().map(|c| c.name.as_str()))?;
    for row in &message.rows {
        w.write_record(row.iter().map(Message::cell))?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}
