//! SASL as the service offers it: ANONYMOUS (what the Rust client picks), PLAIN and MSSBCBS
//! (what other clients pick) are all accepted, since authorisation happens over `$cbs`.

use fe2o3_amqp::acceptor::sasl_acceptor::{SaslAcceptor, SaslServerFrame};
use fe2o3_amqp_types::primitives::{Array, Symbol};
use fe2o3_amqp_types::sasl::{SaslCode, SaslInit, SaslOutcome, SaslResponse};

/// Accepts every mechanism it offers.
#[derive(Debug, Clone, Default)]
pub(crate) struct NamespaceSasl;

impl SaslAcceptor for NamespaceSasl {
    fn mechanisms(&self) -> Array<Symbol> {
        Array::from(vec![
            Symbol::from("MSSBCBS"),
            Symbol::from("PLAIN"),
            Symbol::from("ANONYMOUS"),
        ])
    }

    fn on_init(&mut self, init: SaslInit) -> SaslServerFrame {
        tracing::debug!(mechanism = %init.mechanism.0, "SASL init");
        SaslServerFrame::Outcome(SaslOutcome {
            code: SaslCode::Ok,
            additional_data: None,
        })
    }

    fn on_response(&mut self, _response: SaslResponse) -> SaslServerFrame {
        SaslServerFrame::Outcome(SaslOutcome {
            code: SaslCode::Ok,
            additional_data: None,
        })
    }
}
