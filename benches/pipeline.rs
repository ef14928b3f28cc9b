//! Throughput of the pipeline's CPU stages on realistic IoT Central telemetry: decode → route
//! → transform (smartvitalspatch) → coerce and encode multijson, and the same plus gzip of
//! each batch, as an ingestion request carries it. Run with `cargo bench --bench pipeline`;
//! figures are recorded in benches/README.md.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use iotc_adx::config::load_str;
use iotc_adx::event::{EventMeta, SourceEvent};
use iotc_adx::pipeline::{Output, Processor};
use iotc_adx::sink::gzip::gzip;
use serde_json::{json, Map};
use std::path::Path;

const MESSAGES: usize = 1000;

/// Telemetry like a Continuous Patient Monitoring app sends: vitals patches and knee braces.
fn messages() -> Vec<SourceEvent> {
    (0..MESSAGES)
        .map(|i| {
            let vitals = i % 5 < 3;
            let activity = ["walking", "running", "sleeping"][i % 3];
            let telemetry = if vitals {
                json!({"HeartRate": 60 + i % 70, "RespiratoryRate": 12 + i % 10, "BodyTemperature": 97.0 + (i % 35) as f64 / 10.0,
                       "BloodPressure": {"Diastolic": 60 + i % 30, "Systolic": 100 + i % 50}, "Activity": activity})
            } else {
                json!({"RangeOfMotion": 60 + i % 70, "KneeBend": (i % 900) as f64 / 10.0,
                       "Acceleration": {"x": 0.12, "y": -0.5, "z": 9.81}, "BatteryLevel": i % 100})
            };
            let body = json!({
                "applicationId": "1dffa667-9bee-4f16-b243-25ad4151475e", "messageSource": "telemetry",
                "deviceId": format!("{}-{:04}", if vitals { "vitals" } else { "knee" }, i % 250), "schema": "default@v1",
                "templateId": if vitals { "urn:continuousPatientMonitoringTemplate:Smart_Vitals_Patch_220:1" } else { "urn:continuousPatientMonitoringTemplate:Smart_Knee_Brace_6wm:1" },
                "enqueuedTime": format!("2026-11-21T08:{:02}:{:02}.{:03}Z", i / 60 % 60, i % 60, i % 1000),
                "telemetry": telemetry, "enrichments": {"simulated": true},
                "module": "VitalsModule", "component": "DeviceComponent",
                "messageProperties": {"iothub-creation-time-utc": "2026-11-21T08:00:00.000Z"}
            });
            SourceEvent {
                body: body.to_string().into_bytes(),
                meta: EventMeta {
                    partition: "0".into(),
                    sequence_number: i as i64,
                    offset: (i * 700).to_string(),
                    enqueued_time: chrono::Utc::now(),
                    partition_key: None,
                    properties: Map::new(),
                    system_properties: Map::new(),
                    origin: None,
                },
            }
        })
        .collect()
}

fn processor() -> Processor {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let block =
        std::fs::read_to_string(root.join("transforms/smartvitalspatch/destination.toml")).unwrap();
    let config = format!(
        "[source]\ntype = \"file\"\npath = \"-\"\n[sink]\ntype = \"file\"\npath = \"out\"\n{block}"
    );
    Processor::new(
        load_str(&config, &root.join("transforms/smartvitalspatch"))
            .unwrap()
            .destinations,
    )
}

fn pipeline(c: &mut Criterion) {
    let events = messages();
    let bytes: usize = events.iter().map(|e| e.body.len()).sum();
    let processor = processor();
    let mut group = c.benchmark_group("pipeline");
    group
        .sample_size(20)
        .measurement_time(std::time::Duration::from_secs(4));

    for (label, compress) in [
        ("decode-route-transform-encode", false),
        ("decode-route-transform-encode-gzip", true),
    ] {
        // Once in elements (messages/s) and once in bytes (MB/s of exported JSON).
        for throughput in [
            Throughput::Elements(MESSAGES as u64),
            Throughput::Bytes(bytes as u64),
        ] {
            let unit = if matches!(throughput, Throughput::Bytes(_)) {
                "bytes"
            } else {
                "messages"
            };
            group.throughput(throughput);
            group.bench_function(format!("{label}/{unit}"), |b| {
                b.iter_batched_ref(
                    || (Output::new(1), Vec::with_capacity(1 << 20)),
                    |(output, payload)| {
                        for event in &events {
                            processor.process(event, output);
                            payload.extend_from_slice(output.rows(0).0);
                        }
                        if compress {
                            std::hint::black_box(gzip(payload).unwrap());
                        }
                        std::hint::black_box(payload.len())
                    },
                    BatchSize::LargeInput,
                )
            });
        }
    }
    group.finish();
}

/// Where the time goes: each stage alone, over the same messages.
fn stages(c: &mut Criterion) {
    use iotc_adx::decode::decode;
    use iotc_adx::transform::coerce::encode_rows;
    let events = messages();
    let processor = processor();
    let d = &processor.destinations()[0];
    let decoded: Vec<_> = events.iter().map(|e| decode(&e.body).unwrap()).collect();
    let metas: Vec<_> = events.iter().map(|e| e.meta.to_value()).collect();
    let results: Vec<_> = decoded
        .iter()
        .zip(&metas)
        .map(|(m, meta)| d.transform.apply(m.value(), meta).unwrap())
        .collect();
    let mut payload = Vec::new();
    for r in &results {
        encode_rows(r, &d.schema, &mut payload).unwrap();
    }
    let mut group = c.benchmark_group("stages");
    group
        .sample_size(20)
        .measurement_time(std::time::Duration::from_secs(3));
    group.throughput(Throughput::Elements(MESSAGES as u64));
    group.bench_function("decode", |b| {
        b.iter(|| {
            events
                .iter()
                .map(|e| decode(&e.body).is_ok() as usize)
                .sum::<usize>()
        })
    });
    group.bench_function("meta-value", |b| {
        b.iter(|| {
            events
                .iter()
                .map(|e| e.meta.to_value().is_object() as usize)
                .sum::<usize>()
        })
    });
    group.bench_function("route", |b| {
        b.iter(|| {
            decoded
                .iter()
                .zip(&metas)
                .filter(|(m, meta)| d.filter.check(m, meta).is_ok_and(|r| r.is_ok()))
                .count()
        })
    });
    group.bench_function("transform", |b| {
        b.iter(|| {
            decoded
                .iter()
                .zip(&metas)
                .map(|(m, meta)| d.transform.apply(m.value(), meta).is_ok() as usize)
                .sum::<usize>()
        })
    });
    group.bench_function("encode", |b| {
        b.iter_batched_ref(
            || Vec::with_capacity(1 << 20),
            |out| {
                results
                    .iter()
                    .map(|r| encode_rows(r, &d.schema, out).unwrap_or(0))
                    .sum::<usize>()
            },
            BatchSize::LargeInput,
        )
    });
    // What the pipeline runs: transform and encode fused, the result read through a view.
    group.bench_function("transform-encode", |b| {
        b.iter_batched_ref(
            || Vec::with_capacity(1 << 20),
            |out| {
                decoded
                    .iter()
                    .zip(&metas)
                    .map(|(m, meta)| {
                        d.transform
                            .apply_encoded(m.value(), meta, &d.schema, out)
                            .unwrap_or(0)
                    })
                    .sum::<usize>()
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function("gzip", |b| b.iter(|| gzip(&payload).unwrap().len()));
    group.finish();
}

criterion_group!(benches, pipeline, stages);
criterion_main!(benches);
