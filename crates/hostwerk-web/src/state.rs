//! The state every handler shares: store, configuration, templates, mailer, throttles and metrics.

use std::sync::Arc;

use hostwerk_store::Store;

use crate::{config::Config, mailer::Mailer, metrics::Metrics, throttle::Throttles, views::Views};

/// Cheap to clone (one reference count): every extractor and middleware takes a copy per request.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

/// What an [`AppState`] shares.
#[derive(Debug)]
pub struct Shared {
    pub store: Store,
    pub config: Arc<Config>,
    pub mailer: Mailer,
    pub(crate) views: Views,
    pub(crate) throttles: Throttles,
    pub(crate) metrics: Metrics,
    /// Rendered dashboards, reused while what they show is unchanged.
    pub(crate) dashboards: crate::page_cache::PageCache,
    /// The panel's access to the webservers' backup repositories.
    pub backup_repos: std::sync::Arc<crate::backup_repos::Repos>,
    /// Claims of one panel instance are decided one at a time (SQLite has one writer anyway; on PostgreSQL the
    /// row locks order instances among each other).
    pub(crate) backup_claims: tokio::sync::Mutex<()>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(store: Store, config: Config) -> Self {
        let (phone_checks, comments) = (config.phone_checks_per_10min, config.comments_per_minute);
        let backup_repos = Arc::new(crate::backup_repos::Repos::new(&config.backup.repositories));
        let dashboards = crate::page_cache::PageCache::new(config.dashboard_cache_mib);
        let config = Arc::new(config);
        let mailer = Mailer::new(store.clone(), &config);
        Self(Arc::new(Shared {
            store,
            config,
            mailer,
            views: Views::new(),
            throttles: Throttles::new(phone_checks, comments),
            backup_repos,
            backup_claims: tokio::sync::Mutex::new(()),
            metrics: Metrics::default(),
            dashboards,
        }))
    }
}
