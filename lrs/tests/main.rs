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
