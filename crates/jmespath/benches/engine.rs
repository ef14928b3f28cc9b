//! The engine alone on what iotc-adx asks of it most: the `smartvitalspatch` transform (one
//! row per telemetry capability, with `$` and `items`) over the library's sample messages,
//! evaluated into a value and into a borrowed view.
//!
//! ```sh
//! cargo bench -p iotc-adx-jmespath --bench engine
//! ```

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use iotc_adx_jmespath::Expression;
use serde_json::Value;
use std::path::Path;

fn library() -> (Expression, Vec<Value>) {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../transforms/smartvitalspatch");
    let text = std::fs::read_to_string(folder.join("transform.jmespath")).expect("the transform");
    // Full-line comments are the service's addition: blank them as it does.
    let text: String = text
        .lines()
        .map(|l| {
            if l.trim_start().starts_with('#') {
                ""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let expression = Expression::compile_with_globals(&text, &["meta"]).expect("it compiles");
    let messages = std::fs::read_to_string(folder.join("sample.jsonl"))
        .expect("the samples")
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    (expression, messages)
}

fn engine(c: &mut Criterion) {
    let (expression, messages) = library();
    let meta = Value::Null;
    let mut group = c.benchmark_group("smartvitalspatch");
    group.throughput(Throughput::Elements(messages.len() as u64));
    group.bench_function("search", |b| {
        b.iter(|| {
            messages
                .iter()
                .map(|m| expression.search_with(m, &[("meta", &meta)]).is_ok() as usize)
                .sum::<usize>()
        })
    });
    group.bench_function("search_view", |b| {
        b.iter(|| {
            messages
                .iter()
                .map(|m| {
                    expression
                        .search_view(m, &[("meta", &meta)], |v| v.json_type().name().len())
                        .unwrap_or(0)
                })
                .sum::<usize>()
        })
    });
    group.bench_function("compile", |b| {
        b.iter(|| Expression::compile_with_globals(expression.as_str(), &["meta"]).is_ok())
    });
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
