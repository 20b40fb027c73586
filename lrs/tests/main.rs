//! Integration tests of the lrs crate: the storage test suite on the embedded store.

mod embedded_storage {
    use std::sync::Arc;

    use lrs::clock::SystemClock;
    use lrs::storage::Stores;
    use lrs::storage::embedded::{EmbeddedOptions, EmbeddedStore};

    async fn fresh() -> Stores {
        let dir = tempfile::tempdir().expect("tempdir");
        let options = EmbeddedOptions {
            temporary: true,
            ..EmbeddedOptions::default()
        };
        let store = EmbeddedStore::open(&dir.keep(), options, Arc::new(SystemClock)).expect("open");
        Stores::from_backend(Arc::new(store))
    }

    lrs::storage_test_suite!(fresh);
}

/// The same suite on a real CQL node (ScyllaDB or Apache Cassandra), each case in a fresh
/// keyspace. `scripts/test` starts a node, sets `PROFICIO_TEST_CQL=host:port` and enables the
/// `scylla-tests` feature; with the feature on and no node, every case fails.
#[cfg(feature = "scylla-tests")]
mod scylla_storage {
    use std::sync::Arc;

    use lrs::clock::SystemClock;
    use lrs::storage::Stores;
    use lrs::storage::scylla::{ScyllaConfig, ScyllaStore};

    async fn fresh() -> Stores {
        let node = std::env::var("PROFICIO_TEST_CQL").unwrap_or_else(|_| {
            panic!(
                "PROFICIO_TEST_CQL is not set: the scylla-tests feature needs a CQL node \
                 (host:port); scripts/test starts one, or run scripts/cassandra/start yourself"
            )
        });
        let keyspace = format!("proficio_test_{}", uuid::Uuid::new_v4().simple());
        // Dropped with the store: a Cassandra node holds only so many tables in its heap.
        let config = ScyllaConfig {
            temporary: true,
            ..ScyllaConfig::new(vec![node.clone()], keyspace)
        };
        let store = ScyllaStore::open(&config, Arc::new(SystemClock))
            .await
            .unwrap_or_else(|e| panic!("cannot open a scylla store on {node}: {e}"));
        Stores::from_backend(Arc::new(store))
    }

    lrs::storage_test_suite!(fresh);
}

#[cfg(not(feature = "scylla-tests"))]
#[test]
fn scylla_storage_suite_not_run_enable_feature_scylla_tests() {
    eprintln!(
        "NOTE: the storage suite did NOT run against ScyllaDB/Cassandra; scripts/test runs it \
         (cargo test -p lrs --features scylla-tests with PROFICIO_TEST_CQL=host:port)"
    );
}
