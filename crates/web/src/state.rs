//! What every handler shares: the application, the web app's settings and
//! the shutdown signal. A leaf module (it depends on nothing else in the
//! crate), so pages, sessions, assets and the live stream can all use it
//! without depending on the router that builds it.

use lapor_app::App;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Settings of the web app (from `lapor serve` options).
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Tile URL template for map backgrounds (`{z}/{x}/{y}`); empty: maps
    /// show markers on a plain background and nothing leaves the browser.
    pub tile_url: String,
    pub tile_attribution: String,
    /// Where maps start: the city's centre.
    pub map_center: (f64, f64),
    /// Mark cookies `Secure` (browsers still accept them on
    /// http://localhost). Turn off only for plain-HTTP deployments on other
    /// hosts, which should not exist.
    pub secure_cookies: bool,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            tile_url: String::new(),
            tile_attribution: String::new(),
            map_center: (-6.2, 106.816_666),
            secure_cookies: true,
        }
    }
}

/// Shared by every page handler.
#[derive(Clone)]
pub struct Web {
    pub app: App,
    pub config: Arc<WebConfig>,
    /// Cancelled when the server shuts down: live streams end so the
    /// graceful shutdown does not wait for them.
    pub stop: CancellationToken,
}
