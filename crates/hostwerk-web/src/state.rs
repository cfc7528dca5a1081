//! The state every handler shares: store, configuration, templates, mailer, throttles and metrics.

use std::sync::Arc;

use hostwerk_store::Store;

use crate::{config::Config, mailer::Mailer, metrics::Metrics, throttle::Throttles, views::Views};

/// Cheap to clone; everything inside is shared.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub mailer: Mailer,
    pub(crate) views: Arc<Views>,
    pub(crate) throttles: Arc<Throttles>,
    pub(crate) metrics: Arc<Metrics>,
}

impl AppState {
    pub fn new(store: Store, config: Config) -> Self {
        let config = Arc::new(config);
        let mailer = Mailer::new(store.clone(), &config);
        Self {
            store,
            config,
            mailer,
            views: Arc::new(Views::new()),
            throttles: Arc::new(Throttles::new()),
            metrics: Arc::new(Metrics::default()),
        }
    }
}
