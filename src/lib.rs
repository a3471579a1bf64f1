//! Logs out inactive users of a Rocket 0.5 app. (Guide: see README.md.)

#![deny(missing_docs)]

mod answer;
mod assets;
mod clock;
mod config;
mod fairing;
mod guard;
mod i18n;
mod ping;
mod redirect;
mod snippet;
mod stamp;
mod verdict;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{Config, ConfigError, LogoutMethod, SameSitePolicy, Timeouts};
pub use fairing::{SessionEvent, SessionSecurity};
pub use guard::{ActiveSession, SessionRejected, SessionTracker};
pub use i18n::{Language, Texts};
pub use redirect::safe_next;
pub use snippet::{register_templates, Snippet, SNIPPET_TEMPLATE};
pub use verdict::ExpiryReason;
