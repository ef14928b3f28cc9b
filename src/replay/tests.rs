use super::*;
use crate::event::{EventMeta, SourceEvent};
use serde_json::Map;

fn event(body: &[u8]) -> SourceEvent {
    SourceEvent {
        body: body.to_vec(),
        meta: EventMeta {
            partition: "2".into(),
            sequence_number: 7,
            offset: "70".into(),
            enqueued_time: chrono::Utc::now(),
            partition_key: Some("dev-1".into()),
            properties: Map::new(),
            system_properties: Map::new(),
            origin: None,
        },
    }
}

fn stored(key: &str, letter: DeadLetter) -> StoredLetter {
    StoredLetter {
        key: key.into(),
        location: format!("{key}.jsonl:1"),
        letter,
    }
}

fn store() -> Store {
    let decode = DeadLetter::new(
        &event(b"{"),
        Stage::Decode,
        "invalid_json",
        "x".into(),
        None,
    );
    let transform = DeadLetter::new(
        &event(b"{}"),
        Stage::Transform,
        "evaluation",
        "y".into(),
        Some("telemetry".into()),
    );
    let rows = DeadLetter::for_rows("no".into(), "telemetry".into(), Vec::new(), b"{}\n");
    let late =
        DeadLetter::for_late_failure("late".into(), "telemetry".into(), Vec::new(), None, None);
    let elsewhere = DeadLetter::new(
        &event(b"{}"),
        Stage::Coerce,
        "bad_value",
        "z".into(),
        Some("gone".into()),
    );
    Store {
        letters: vec![
            stored("a", decode),
            stored("b", transform),
            stored("c", rows),
            stored("d", late),
            stored("e", elsewhere),
        ],
        unreadable: Vec::new(),
    }
}

#[test]
fn a_plan_sorts_letters_by_what_a_replay_does_with_them() {
    let ledger = Ledger::empty();
    let plan = Plan::new(
        store(),
        &Selection::default(),
        None,
        &["telemetry"],
        &ledger,
    );
    let groups: Vec<(Option<&str>, usize)> = plan
        .groups
        .iter()
        .map(|g| (g.destination.as_deref(), g.letters.len()))
        .collect();
    assert_eq!(groups, vec![(None, 1), (Some("telemetry"), 1)]);
    assert_eq!(plan.rows.len(), 1);
    let skipped: Vec<&str> = plan.skipped.iter().map(|(s, _)| s.key.as_str()).collect();
    assert_eq!(skipped, vec!["d", "e"]);
    assert!(plan.skipped[0].1.contains("not in the letter"));
    assert!(plan.skipped[1]
        .1
        .contains("`gone` is not in the configuration"));
    assert_eq!(plan.letters(), 3);
}

#[test]
fn to_sends_every_letter_to_one_destination() {
    let ledger = Ledger::empty();
    let configured = ["telemetry", "other"];
    let plan = Plan::new(
        store(),
        &Selection::default(),
        Some("other"),
        &configured,
        &ledger,
    );
    assert_eq!(plan.groups.len(), 1);
    assert_eq!(plan.groups[0].destination.as_deref(), Some("other"));
    assert_eq!(
        plan.groups[0].letters.len(),
        3,
        "decode, transform and coerce letters"
    );
    assert_eq!(plan.rows[0].0, "other");
}

#[test]
fn selections_filter_by_stage_kind_destination_and_time() {
    let ledger = Ledger::empty();
    let pick = |selection: Selection| {
        let plan = Plan::new(store(), &selection, None, &["telemetry"], &ledger);
        let mut keys: Vec<String> = plan
            .groups
            .iter()
            .flat_map(|g| g.letters.iter().map(|l| l.key.clone()))
            .collect();
        keys.extend(plan.rows.iter().map(|(_, l)| l.key.clone()));
        keys.extend(plan.skipped.iter().map(|(l, _)| l.key.clone()));
        keys.sort();
        keys
    };
    let by_stage = Selection {
        stages: vec![Stage::Decode, Stage::Coerce],
        ..Default::default()
    };
    assert_eq!(pick(by_stage), vec!["a", "e"]);
    let by_kind = Selection {
        kinds: vec!["rejected".into()],
        ..Default::default()
    };
    assert_eq!(pick(by_kind), vec!["c"]);
    let by_destination = Selection {
        destination: Some("telemetry".into()),
        ..Default::default()
    };
    assert_eq!(pick(by_destination), vec!["b", "c", "d"]);
    let future = chrono::Utc::now() + chrono::Duration::hours(1);
    assert!(pick(Selection {
        since: Some(future),
        ..Default::default()
    })
    .is_empty());
    assert_eq!(
        pick(Selection {
            until: Some(future),
            ..Default::default()
        })
        .len(),
        5
    );
}

#[test]
fn the_ledger_remembers_across_opens_and_plans_skip_what_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path()).unwrap();
    assert!(ledger.is_empty());
    ledger.mark(["a", "b"]).unwrap();
    ledger.mark(["b"]).unwrap();
    let ledger = Ledger::open(dir.path()).unwrap();
    assert_eq!(ledger.len(), 2);
    let text = std::fs::read_to_string(dir.path().join(LEDGER_FILE)).unwrap();
    assert_eq!(text.lines().count(), 2, "a key is written once");
    let plan = Plan::new(
        store(),
        &Selection::default(),
        None,
        &["telemetry"],
        &ledger,
    );
    assert_eq!(plan.already_replayed, 2);
    assert_eq!(plan.letters(), 1, "only the rows letter is left to send");
}

#[test]
fn letters_are_read_back_as_written_with_stable_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut out = crate::deadletter::LocalDirStore::new(dir.path(), 1 << 20);
    let written = store();
    for stored in &written.letters {
        out.put(&stored.letter).unwrap();
    }
    out.flush().unwrap();
    std::fs::write(dir.path().join("dead-letter-zz.jsonl"), "{not a letter\n").unwrap();
    let first = read_store(dir.path()).unwrap();
    let again = read_store(dir.path()).unwrap();
    assert_eq!(first.letters.len(), 5);
    assert_eq!(first.unreadable.len(), 1);
    assert!(first.unreadable[0]
        .location
        .ends_with("dead-letter-zz.jsonl:1"));
    let keys = |s: &Store| s.letters.iter().map(|l| l.key.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&first), keys(&again));
    assert_eq!(first.letters[0].letter, written.letters[0].letter);
    assert_eq!(first.letters[0].letter.kind, "invalid_json");
}
