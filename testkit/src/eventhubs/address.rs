//! Parses link addresses (`amqps://host/hub/ConsumerGroups/cg/Partitions/0`, or bare paths)
//! into the entity they name.

/// What a link address names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Entity {
    /// The claims-based security node.
    Cbs,
    /// The management node.
    Management,
    /// A hub (producer target; the service picks the partition).
    Hub { hub: String },
    /// A partition of a hub (producer target).
    HubPartition { hub: String, partition: String },
    /// A consumer group's partition (consumer source).
    ConsumerPartition {
        hub: String,
        group: String,
        partition: String,
    },
    /// Anything else: a reply node chosen by the client, or garbage.
    Other(String),
}

/// Strips `scheme://host` from an address, and the leading slash.
pub(crate) fn path_of(address: &str) -> &str {
    let rest = match address.find("://") {
        Some(i) => {
            let after = &address[i + 3..];
            match after.find('/') {
                Some(j) => &after[j..],
                None => "",
            }
        }
        None => address,
    };
    rest.trim_start_matches('/').trim_end_matches('/')
}

/// `host/path` of an address, lower-cased, without scheme: used to compare token resources.
pub(crate) fn host_and_path(address: &str) -> String {
    let s = match address.find("://") {
        Some(i) => &address[i + 3..],
        None => address,
    };
    s.trim_end_matches('/').to_ascii_lowercase()
}

/// Classifies an address.
pub(crate) fn parse(address: &str) -> Entity {
    let path = path_of(address);
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["$cbs"] => Entity::Cbs,
        ["$management"] => Entity::Management,
        [hub, p, id] if p.eq_ignore_ascii_case("Partitions") => Entity::HubPartition {
            hub: hub.to_string(),
            partition: id.to_string(),
        },
        [hub, c, g, p, id]
            if c.eq_ignore_ascii_case("ConsumerGroups") && p.eq_ignore_ascii_case("Partitions") =>
        {
            Entity::ConsumerPartition {
                hub: hub.to_string(),
                group: g.to_string(),
                partition: id.to_string(),
            }
        }
        [hub] if !hub.is_empty() && !hub.starts_with('$') => Entity::Hub {
            hub: hub.to_string(),
        },
        _ => Entity::Other(address.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse() {
        assert_eq!(parse("$cbs"), Entity::Cbs);
        assert_eq!(
            parse("amqps://ns.example/hub"),
            Entity::Hub { hub: "hub".into() }
        );
        assert_eq!(
            parse("hub/Partitions/1"),
            Entity::HubPartition {
                hub: "hub".into(),
                partition: "1".into()
            }
        );
        assert_eq!(
            parse("amqps://ns/hub/ConsumerGroups/$Default/Partitions/0"),
            Entity::ConsumerPartition {
                hub: "hub".into(),
                group: "$Default".into(),
                partition: "0".into()
            }
        );
        assert_eq!(
            parse("rust_amqp_cbs"),
            Entity::Hub {
                hub: "rust_amqp_cbs".into()
            }
        );
        assert_eq!(host_and_path("sb://NS/hub/"), "ns/hub");
    }
}
