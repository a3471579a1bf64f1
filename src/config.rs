//! Typed, validated configuration read from `[default.session_security]`.

use std::fmt;

use serde::Deserialize;

use crate::binding::MAX_LOGIN_COOKIES;
use crate::i18n::Language;
use crate::origin::{AddressRange, PublicOrigin};
use crate::redirect::is_local_path;
use crate::revocation::StoreChoice;
use crate::timing::{Profile, Timeouts, TimingError, TimingRules};

/// The table of `Rocket.toml` the fairing reads.
pub const CONFIG_TABLE: &str = "session_security";

/// Settings of the crate, as written under `[default.session_security]` in
/// `Rocket.toml` (or `ROCKET_SESSION_SECURITY={...}`). Every key is optional;
/// an unknown key stops the launch, so a typo is never silently ignored.
/// In code, build one with `..Config::default()`: new settings come in minor
/// releases.
///
/// ```
/// use rocket_session_security::Config;
///
/// let figment = rocket::Config::figment()
///     .merge(("session_security", rocket::figment::util::map!["expire_after" => 900]));
/// let config: Config = figment.focus("session_security").extract().unwrap();
/// assert_eq!(config.expire_after, 900);
/// assert_eq!(config.warn_after, 540);
/// assert!(config.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Idle seconds after which the browser shows the warning. Default 540.
    pub warn_after: u32,
    /// Idle seconds after which the session is over. Default 600.
    pub expire_after: u32,
    /// Seconds after sign-in after which the session is over whatever the
    /// activity; `0` turns the limit off. Default 43200 (12 hours).
    pub absolute_timeout: u32,
    /// Paths that never count as activity: exact, or a prefix when the entry
    /// ends in `*` (`/api/poll/*`). Compared as Rocket routes paths (decoded,
    /// empty segments ignored): `/poll/`, `//poll` and `/%70oll` are `/poll`.
    pub passive_urls: Vec<String>,
    /// Rocket route names that never count as activity.
    pub passive_routes: Vec<String>,
    /// Where an expired page navigation is sent, with `?next=<path>`.
    pub login_url: String,
    /// The app's own sign-in cookies (at most 8): the stamp is bound to the
    /// sign-in they name, they are removed when the session ends, and their
    /// presence without a stamp means an expired session.
    pub login_cookies: Vec<String>,
    /// Name of the private cookie holding the stamp.
    pub cookie_name: String,
    /// Where the crate mounts its ping route and assets.
    pub base: String,
    /// `SameSite` of the stamp cookie. Default `strict`, as Rocket's own
    /// private cookies: the stamp and the login cookie then travel together.
    pub same_site: SameSitePolicy,
    /// Mark the stamp cookie `Secure` even without TLS in Rocket (behind a
    /// TLS-terminating proxy). It is always `Secure` when Rocket runs TLS.
    /// Needed for a `__Host-` or `__Secure-` cookie name.
    pub secure: bool,
    /// The `Domain` the app sets its login cookies with, if it sets one
    /// (`"example.com"`): removals must carry it or the browser keeps the
    /// cookie. Unset: host-only cookies, as Rocket makes them.
    pub login_cookie_domain: Option<String>,
    /// Addresses or networks of reverse proxies whose `X-Forwarded-Host`,
    /// `X-Forwarded-Proto` and `Forwarded` headers are believed
    /// (`["127.0.0.1", "10.0.0.0/8"]`): compared with the TCP peer, never
    /// with a header. Empty (the default): those headers are ignored.
    pub trusted_proxies: Vec<String>,
    /// The origins people reach the app at (`["https://crm.example.com"]`).
    /// When set, a browser's `Origin` or `Referer` must name one of them;
    /// unset, the request's `Host` (or a trusted proxy's forwarded host) is
    /// the site's origin.
    pub public_origins: Vec<String>,
    /// Where revocations and the sessions list are kept: unset, the
    /// embedded SQLite database `session_security.sqlite3` in the working
    /// directory; a path, the embedded database there; `"redis://host:port[/db]"`,
    /// Redis (feature `redis`, for several instances); `"memory"`, this
    /// process only (tests).
    pub revocations: Option<String>,
    /// Seconds the launch waits for the revocation store to load before it
    /// fails (it never serves sessions it cannot check). Default 10.
    pub revocations_wait: u32,
    /// The app's sign-out URL, used by the warning's "Sign out now" button.
    pub logout_url: String,
    /// The HTTP method of `logout_url`.
    pub logout_method: LogoutMethod,
    /// Language of the warning texts and notices (a tag: `"fr"`, `"pt-BR"`);
    /// unset means the request's `Accept-Language`, then English.
    pub language: Option<Language>,
    /// Ask before leaving a page whose forms hold unsaved input.
    pub confirm_form_discard: bool,
    /// On expiry, cover a page whose forms hold unsaved input instead of
    /// leaving it, so the input survives a sign-in in another tab: the page's
    /// content is dropped and the draft sealed (AES-GCM, WebCrypto) under a
    /// key only that person's active session gets. When the same person
    /// signs in again (told apart through `login_cookies`; without them
    /// nothing is kept) the page loads anew with the draft filled in; for
    /// anyone else the draft is discarded. Pages of a person load the drafts
    /// module (`session-security-drafts.js`) besides the script.
    pub keep_unsaved_forms: bool,
    /// End the session soon after the site's last open tab closes
    /// (django-session-security's `SESSION_EXPIRE_AT_BROWSER_CLOSE`, done in
    /// the browser): a closing tab asks the server to end the session
    /// `last_tab_grace` seconds later, and any page of the site that is
    /// still open, or loads within the grace, reports its idle time again,
    /// which undoes it. Reloads, links between pages and a second tab
    /// closing never sign out. Pages load the last-tab module
    /// (`session-security-last-tab.js`) besides the script. Default `false`.
    pub end_with_last_tab: bool,
    /// Seconds a session outlives the site's last tab with
    /// `end_with_last_tab` (5 to 300, below `expire_after`). Default 15.
    pub last_tab_grace: u32,
    /// A compliance profile whose limits the timing must keep:
    /// `"pci-dss-4"`, `"nist-aal2"` or `"nist-aal3"` (see [`Profile`]).
    /// The launch fails when the configuration breaks them, naming the
    /// requirement and the key; a sign-in with a timing that breaks them is
    /// refused. In `Rocket.toml` it also sets the timing keys left unset.
    /// Unset (the default): no profile.
    pub profile: Option<Profile>,
    /// Refuse a timing whose warning leaves less than 20 s to respond
    /// (`expire_after − warn_after < 20`), as WCAG 2.2.1 (Timing Adjustable)
    /// asks. Default `true`; `false` only for tests that compress time.
    pub wcag_timing_check: bool,
    /// Not a setting: lets `Config` gain settings without a breaking
    /// release, as Rocket's own `Config` does. Build a `Config` with
    /// `..Config::default()`.
    #[doc(hidden)]
    #[serde(skip)]
    pub __non_exhaustive: (),
}

impl Default for Config {
    fn default() -> Self {
        Config {
            warn_after: 540,
            expire_after: 600,
            absolute_timeout: 43_200,
            passive_urls: Vec::new(),
            passive_routes: Vec::new(),
            login_url: "/login".into(),
            login_cookies: Vec::new(),
            cookie_name: "session_security".into(),
            base: "/session-security".into(),
            same_site: SameSitePolicy::Strict,
            secure: false,
            login_cookie_domain: None,
            trusted_proxies: Vec::new(),
            public_origins: Vec::new(),
            revocations: None,
            revocations_wait: 10,
            logout_url: "/logout".into(),
            logout_method: LogoutMethod::Post,
            language: None,
            confirm_form_discard: false,
            keep_unsaved_forms: false,
            end_with_last_tab: false,
            last_tab_grace: 15,
            profile: None,
            wcag_timing_check: true,
            __non_exhaustive: (),
        }
    }
}

/// `SameSite` attribute of the stamp cookie. Choose the same as your login
/// cookies have (Rocket's `add_private` makes them `Strict`).
///
/// ```
/// use rocket_session_security::SameSitePolicy;
/// assert_eq!(SameSitePolicy::default(), SameSitePolicy::Strict);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SameSitePolicy {
    /// Sent on same-site requests and top-level cross-site navigations.
    Lax,
    /// Sent on same-site requests only (a link from an e-mail arrives signed
    /// out for that one request, as with Rocket's own private cookies).
    #[default]
    Strict,
    /// Sent everywhere; needs `secure = true`.
    None,
}

impl SameSitePolicy {
    /// The cookie attribute.
    pub(crate) fn attribute(self) -> rocket::http::SameSite {
        match self {
            SameSitePolicy::Lax => rocket::http::SameSite::Lax,
            SameSitePolicy::Strict => rocket::http::SameSite::Strict,
            SameSitePolicy::None => rocket::http::SameSite::None,
        }
    }
}

/// How the warning's "Sign out now" button reaches `logout_url`.
///
/// ```
/// use rocket_session_security::LogoutMethod;
/// assert_eq!(LogoutMethod::Post.as_str(), "post");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum LogoutMethod {
    /// A form `POST` (the safe default: no sign-out by a stray link).
    #[default]
    Post,
    /// A plain navigation.
    Get,
}

impl LogoutMethod {
    /// The method in lower case, as the browser script reads it.
    pub fn as_str(self) -> &'static str {
        match self {
            LogoutMethod::Post => "post",
            LogoutMethod::Get => "get",
        }
    }
}

/// A configuration value that cannot work, with the key that holds it.
///
/// ```
/// use rocket_session_security::Config;
///
/// let config = Config { login_url: "login".into(), ..Config::default() };
/// let error = config.validate().unwrap_err();
/// assert_eq!(error.key(), "login_url");
/// assert!(error.to_string().starts_with("session_security.login_url:"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    key: String,
    message: String,
}

impl ConfigError {
    fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError { key: key.into(), message: message.into() }
    }

    /// The key at fault, e.g. `warn_after` or `passive_urls[2]`.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{CONFIG_TABLE}.{}: {}", self.key, self.message)
    }
}

impl std::error::Error for ConfigError {}

impl From<TimingError> for ConfigError {
    fn from(e: TimingError) -> Self {
        ConfigError::new(e.key(), e.message())
    }
}

/// The timing keys a profile fills in when they are unset.
const TIMING_KEYS: [&str; 3] = ["warn_after", "expire_after", "absolute_timeout"];

impl Config {
    /// The configured timing: the longest any session may have.
    pub fn timeouts(&self) -> Timeouts {
        Timeouts {
            warn_after: self.warn_after,
            expire_after: self.expire_after,
            absolute_timeout: self.absolute_timeout,
        }
    }

    /// The crate's defaults with `profile` and its timing (see [`Profile`]).
    ///
    /// ```
    /// use rocket_session_security::{Config, Profile};
    /// let config = Config::for_profile(Profile::NistAal3);
    /// assert_eq!((config.warn_after, config.expire_after, config.absolute_timeout), (780, 900, 43_200));
    /// assert!(config.validate().is_ok());
    /// ```
    pub fn for_profile(profile: Profile) -> Config {
        let mut config = Config { profile: Some(profile), ..Config::default() };
        config.fill_profile_timing(|_| false);
        config
    }

    /// Gives the timing keys that `is_set` says were not configured the
    /// profile's values (nothing without a profile).
    pub(crate) fn fill_profile_timing(&mut self, is_set: impl Fn(&str) -> bool) {
        let Some(profile) = self.profile else { return };
        let defaults = profile.defaults();
        let [warn, expire, absolute] = TIMING_KEYS.map(|key| !is_set(key));
        if expire {
            self.expire_after = defaults.expire_after;
        }
        if warn {
            // Two minutes before whatever expire_after is now.
            self.warn_after = self.expire_after.saturating_sub(defaults.expire_after - defaults.warn_after).max(1);
        }
        if absolute {
            self.absolute_timeout = defaults.absolute_timeout;
        }
    }

    /// The rules every session timing keeps (the profile's, WCAG 2.2.1's).
    pub(crate) fn timing_rules(&self) -> TimingRules {
        TimingRules { profile: self.profile, wcag_timing_check: self.wcag_timing_check }
    }

    /// Checks every rule the launch depends on; the error names the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.timing_rules().check(&self.timeouts())?;
        check_local_path("login_url", &self.login_url, true)?;
        check_local_path("logout_url", &self.logout_url, true)?;
        check_base(&self.base)?;
        for (i, url) in self.passive_urls.iter().enumerate() {
            let path = url.strip_suffix('*').unwrap_or(url);
            check_local_path(&format!("passive_urls[{i}]"), path, false)?;
        }
        for (i, name) in self.passive_routes.iter().enumerate() {
            if name.trim().is_empty() {
                return Err(ConfigError::new(format!("passive_routes[{i}]"), "is empty"));
            }
        }
        check_cookie_name("cookie_name", &self.cookie_name)?;
        if self.login_cookies.len() > MAX_LOGIN_COOKIES {
            return Err(ConfigError::new(
                "login_cookies",
                format!("lists {} cookies; at most {MAX_LOGIN_COOKIES}", self.login_cookies.len()),
            ));
        }
        for (i, name) in self.login_cookies.iter().enumerate() {
            let key = format!("login_cookies[{i}]");
            check_cookie_name(&key, name)?;
            if *name == self.cookie_name {
                return Err(ConfigError::new(key, "must differ from cookie_name"));
            }
            if self.login_cookies[..i].contains(name) {
                return Err(ConfigError::new(key, format!("{name:?} is listed twice")));
            }
        }
        if self.same_site == SameSitePolicy::None && !self.secure {
            return Err(ConfigError::new(
                "same_site",
                "\"none\" needs secure = true (browsers drop SameSite=None cookies without Secure)",
            ));
        }
        self.check_prefixed_names()?;
        for (i, proxy) in self.trusted_proxies.iter().enumerate() {
            AddressRange::parse(proxy).map_err(|e| ConfigError::new(format!("trusted_proxies[{i}]"), e))?;
        }
        for (i, origin) in self.public_origins.iter().enumerate() {
            PublicOrigin::parse(origin).map_err(|e| ConfigError::new(format!("public_origins[{i}]"), e))?;
        }
        self.revocation_store().map_err(|e| ConfigError::new("revocations", e))?;
        if self.revocations_wait == 0 || self.revocations_wait > 300 {
            return Err(ConfigError::new("revocations_wait", "must be 1 to 300 seconds"));
        }
        // Under 5 s, a page's report after loading (1 s later) could arrive after the end.
        if !(5..=300).contains(&self.last_tab_grace) {
            return Err(ConfigError::new("last_tab_grace", "must be 5 to 300 seconds"));
        }
        if self.end_with_last_tab && self.last_tab_grace >= self.expire_after {
            return Err(ConfigError::new(
                "last_tab_grace",
                format!(
                    "{} s is not below expire_after ({} s): closing the last tab would not end the session sooner",
                    self.last_tab_grace, self.expire_after
                ),
            ));
        }
        Ok(())
    }

    /// Browsers refuse a `__Host-`/`__Secure-` cookie without `Secure`, and
    /// a `__Host-` one with a `Domain`: such a name could never be set (or
    /// removed), so every sign-in would be lost without a word.
    fn check_prefixed_names(&self) -> Result<(), ConfigError> {
        let names = std::iter::once(("cookie_name".to_string(), &self.cookie_name))
            .chain(self.login_cookies.iter().enumerate().map(|(i, n)| (format!("login_cookies[{i}]"), n)));
        for (key, name) in names {
            if is_prefixed(name) && !self.secure {
                return Err(ConfigError::new(
                    key,
                    format!(
                        "{name:?} has a __Host-/__Secure- prefix, which browsers accept only with Secure: \
                         set secure = true (and serve the site over HTTPS)"
                    ),
                ));
            }
        }
        if let Some(domain) = &self.login_cookie_domain {
            let valid = !domain.is_empty()
                && domain.len() <= 253
                && domain
                    .trim_start_matches('.')
                    .split('.')
                    .all(|label| !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
            if !valid {
                return Err(ConfigError::new(
                    "login_cookie_domain",
                    format!("{domain:?} is not a domain name (e.g. \"example.com\")"),
                ));
            }
            if let Some(name) = self.login_cookies.iter().find(|n| n.starts_with("__Host-")) {
                return Err(ConfigError::new(
                    "login_cookie_domain",
                    format!("a __Host- cookie ({name:?}) never has a Domain: remove login_cookie_domain"),
                ));
            }
        }
        Ok(())
    }

    /// The store `revocations` names.
    pub(crate) fn revocation_store(&self) -> Result<StoreChoice, String> {
        StoreChoice::parse(self.revocations.as_deref())
    }

    /// What the launch checked the timing against, for the launch log.
    pub(crate) fn compliance_summary(&self) -> String {
        let lead = self.expire_after - self.warn_after;
        let wcag = if self.wcag_timing_check {
            format!("WCAG 2.2.1: the warning leaves {lead} s ≥ 20 s to respond")
        } else {
            format!("WCAG 2.2.1 not checked (wcag_timing_check = false): the warning leaves {lead} s")
        };
        let Some(profile) = self.profile else {
            return format!("session security: no compliance profile; {wcag}");
        };
        let overall = match (profile.max_absolute_timeout(), self.absolute_timeout) {
            (Some(max), own) => format!("absolute_timeout {own} s ≤ {max} s"),
            (None, 0) => "absolute_timeout off (not limited by the profile)".to_string(),
            (None, own) => format!("absolute_timeout {own} s (not limited by the profile)"),
        };
        format!(
            "session security: profile {} ({}): checked expire_after {} s ≤ {} s, {overall}; {wcag}; \
             a timing chosen at sign-in is checked there",
            profile.as_str(),
            profile.requirement(),
            self.expire_after,
            profile.max_expire_after()
        )
    }

    /// Risky but valid settings, for the launch log.
    pub(crate) fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if !self.wcag_timing_check {
            warnings.push(format!(
                "{CONFIG_TABLE}.wcag_timing_check = false: timings whose warning leaves less than 20 s to respond \
                 are accepted, which WCAG 2.2.1 (Timing Adjustable) does not allow outside tests"
            ));
        }
        if self.login_cookies.is_empty() {
            warnings.push(format!(
                "{CONFIG_TABLE}.login_cookies is empty: an expired session only loses its stamp, \
                 the app's own sign-in cookies stay"
            ));
        }
        warnings
    }
}

/// A `__Host-` or `__Secure-` cookie name (prefixes are case-sensitive in
/// RFC 6265bis; browsers compare them so).
pub(crate) fn is_prefixed(name: &str) -> bool {
    name.starts_with("__Host-") || name.starts_with("__Secure-")
}

/// A path on this site, by the same rule as a login redirect's `next`
/// ([`is_local_path`]), and without a fragment.
fn check_local_path(key: &str, path: &str, query_allowed: bool) -> Result<(), ConfigError> {
    if !path.starts_with('/') {
        return Err(ConfigError::new(key, format!("{path:?} must start with '/'")));
    }
    if !is_local_path(path) {
        return Err(ConfigError::new(
            key,
            format!("{path:?} must be a path on this site: not '//host', no spaces, control characters or '..'"),
        ));
    }
    if path.contains('#') {
        return Err(ConfigError::new(key, format!("{path:?} must not hold a '#' fragment")));
    }
    if !query_allowed && path.contains('?') {
        return Err(ConfigError::new(key, format!("{path:?} must be a path without a query")));
    }
    Ok(())
}

fn check_base(base: &str) -> Result<(), ConfigError> {
    check_local_path("base", base, false)?;
    if base.len() > 1 && base.ends_with('/') {
        return Err(ConfigError::new("base", format!("{base:?} must not end with '/'")));
    }
    if base.contains(['<', '>']) || rocket::http::uri::Origin::parse(base).is_err() {
        return Err(ConfigError::new("base", format!("{base:?} is not a plain mount path")));
    }
    Ok(())
}

/// RFC 6265 cookie-name token.
fn check_cookie_name(key: &str, name: &str) -> Result<(), ConfigError> {
    let is_token = |c: char| c.is_ascii_graphic() && !"()<>@,;:\\\"/[]?={}".contains(c);
    if name.is_empty() || !name.chars().all(is_token) {
        return Err(ConfigError::new(key, format!("{name:?} is not a valid cookie name")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(config: Config) -> String {
        config.validate().unwrap_err().key().to_string()
    }

    #[test]
    fn defaults_are_valid_and_match_the_documentation() {
        let config = Config::default();
        assert!(config.validate().is_ok());
        assert_eq!((config.warn_after, config.expire_after, config.absolute_timeout), (540, 600, 43_200));
        assert_eq!(config.cookie_name, "session_security");
        assert_eq!(config.base, "/session-security");
        assert_eq!(config.same_site, SameSitePolicy::Strict);
    }

    #[test]
    fn timing_rules_name_their_key() {
        let d = Config::default;
        assert_eq!(key_of(Config { warn_after: 0, ..d() }), "warn_after");
        assert_eq!(key_of(Config { warn_after: 600, ..d() }), "warn_after");
        assert_eq!(key_of(Config { warn_after: 700, ..d() }), "warn_after");
        assert_eq!(key_of(Config { absolute_timeout: 599, ..d() }), "absolute_timeout");
        assert!(Config { absolute_timeout: 0, ..d() }.validate().is_ok());
        assert!(Config { absolute_timeout: 600, ..d() }.validate().is_ok());
    }

    #[test]
    fn paths_must_be_local() {
        let d = Config::default;
        assert_eq!(key_of(Config { login_url: "login".into(), ..d() }), "login_url");
        assert_eq!(key_of(Config { login_url: "https://evil.example/".into(), ..d() }), "login_url");
        assert_eq!(key_of(Config { login_url: "//evil.example".into(), ..d() }), "login_url");
        assert!(Config { login_url: "/auth/login?sso=1".into(), ..d() }.validate().is_ok());
        assert_eq!(key_of(Config { logout_url: "bye".into(), ..d() }), "logout_url");
        assert_eq!(key_of(Config { base: "ss".into(), ..d() }), "base");
        assert_eq!(key_of(Config { base: "/ss/".into(), ..d() }), "base");
        assert_eq!(key_of(Config { base: "/ss/<x>".into(), ..d() }), "base");
        let passive = vec!["/ok".to_string(), "/api/*".to_string(), "api/poll".to_string()];
        assert_eq!(key_of(Config { passive_urls: passive, ..d() }), "passive_urls[2]");
    }

    #[test]
    fn cookie_names_are_tokens() {
        let d = Config::default;
        assert_eq!(key_of(Config { cookie_name: "".into(), ..d() }), "cookie_name");
        assert_eq!(key_of(Config { cookie_name: "a b".into(), ..d() }), "cookie_name");
        let login = vec!["user".to_string(), "x;y".to_string()];
        assert_eq!(key_of(Config { login_cookies: login, ..d() }), "login_cookies[1]");
        let same = vec!["session_security".to_string()];
        assert_eq!(key_of(Config { login_cookies: same, ..d() }), "login_cookies[0]");
    }

    #[test]
    fn same_site_none_needs_secure() {
        let d = Config::default;
        assert_eq!(key_of(Config { same_site: SameSitePolicy::None, ..d() }), "same_site");
        assert!(Config { same_site: SameSitePolicy::None, secure: true, ..d() }.validate().is_ok());
    }

    #[test]
    fn prefixed_cookie_names_need_secure_and_host_ones_no_domain() {
        let d = Config::default;
        assert_eq!(key_of(Config { cookie_name: "__Host-session_security".into(), ..d() }), "cookie_name");
        assert_eq!(key_of(Config { cookie_name: "__Secure-s".into(), ..d() }), "cookie_name");
        let prefixed = vec!["user".to_string(), "__Host-uid".to_string()];
        assert_eq!(key_of(Config { login_cookies: prefixed.clone(), ..d() }), "login_cookies[1]");
        let error = Config { login_cookies: prefixed.clone(), ..d() }.validate().unwrap_err().to_string();
        assert!(error.contains("secure = true"), "{error}");
        assert!(Config { cookie_name: "__Host-session_security".into(), secure: true, ..d() }.validate().is_ok());
        assert!(Config { login_cookies: prefixed.clone(), secure: true, ..d() }.validate().is_ok());
        // Prefixes are case-sensitive: this is an ordinary name.
        assert!(Config { cookie_name: "__host-x".into(), ..d() }.validate().is_ok());
        let domain = |login_cookies: Vec<String>, domain: &str| Config {
            login_cookies,
            login_cookie_domain: Some(domain.into()),
            secure: true,
            ..d()
        };
        assert_eq!(key_of(domain(prefixed, "example.com")), "login_cookie_domain");
        assert!(domain(vec!["uid".into()], "example.com").validate().is_ok());
        assert!(domain(vec!["__Secure-uid".into()], ".corp.example.com").validate().is_ok());
        for bad in ["", "exa mple.com", "example.com;x=1", "a..b", "."] {
            assert_eq!(key_of(domain(vec!["uid".into()], bad)), "login_cookie_domain", "{bad}");
        }
    }

    #[test]
    fn the_revocation_store_setting_is_checked() {
        let d = Config::default;
        assert_eq!(key_of(Config { revocations: Some("".into()), ..d() }), "revocations");
        assert_eq!(key_of(Config { revocations: Some("postgres://db".into()), ..d() }), "revocations");
        assert_eq!(key_of(Config { revocations_wait: 0, ..d() }), "revocations_wait");
        assert!(Config { revocations: Some("memory".into()), ..d() }.validate().is_ok());
        assert!(Config { revocations: Some("/var/lib/app/sessions.db".into()), ..d() }.validate().is_ok());
    }

    #[test]
    fn the_last_tab_grace_is_short_and_below_expire_after() {
        let d = Config::default;
        let on = |grace, expire_after: u32| Config {
            end_with_last_tab: true,
            last_tab_grace: grace,
            expire_after,
            warn_after: expire_after - 30,
            ..d()
        };
        assert!(on(15, 600).validate().is_ok());
        assert!(on(5, 600).validate().is_ok());
        assert!(on(300, 600).validate().is_ok());
        for grace in [0, 4, 301] {
            assert_eq!(key_of(on(grace, 600)), "last_tab_grace", "{grace}");
        }
        let not_below = on(60, 60).validate().unwrap_err();
        assert_eq!(not_below.key(), "last_tab_grace");
        assert!(not_below.to_string().contains("not below expire_after (60 s)"), "{not_below}");
        // Off, the grace is still checked (a typo shows before it is turned on), but not against expire_after.
        assert_eq!(key_of(Config { last_tab_grace: 2, ..d() }), "last_tab_grace");
        assert!(Config { last_tab_grace: 60, expire_after: 60, warn_after: 30, ..d() }.validate().is_ok());
    }

    #[test]
    fn proxies_and_public_origins_name_the_entry_at_fault() {
        let d = Config::default;
        let proxies = vec!["127.0.0.1".to_string(), "10.0.0.0/8".to_string(), "proxy.local".to_string()];
        assert_eq!(key_of(Config { trusted_proxies: proxies, ..d() }), "trusted_proxies[2]");
        let origins = vec!["https://crm.example.com".to_string(), "crm.example.com".to_string()];
        assert_eq!(key_of(Config { public_origins: origins, ..d() }), "public_origins[1]");
        let good = Config {
            trusted_proxies: vec!["::1".into(), "fd00::/8".into()],
            public_origins: vec!["https://crm.example.com".into(), "http://10.0.0.5:8080".into()],
            ..d()
        };
        assert!(good.validate().is_ok());
    }

    #[test]
    fn language_must_be_known_and_is_parsed_once() {
        use rocket::figment::{util::map, Figment};
        let parse = |tag: &str| {
            Figment::new()
                .merge(("session_security", map!["language" => tag]))
                .focus(CONFIG_TABLE)
                .extract::<Config>()
                .map_err(|e| e.to_string())
        };
        assert_eq!(parse("pt-BR").unwrap().language, Some(Language::Portuguese));
        let error = parse("xx").unwrap_err();
        assert!(error.contains("unknown language \"xx\"") && error.contains("language"), "{error}");
    }

    #[test]
    fn login_cookies_are_few_and_distinct() {
        let d = Config::default;
        let many = (0..9).map(|i| format!("c{i}")).collect();
        assert_eq!(key_of(Config { login_cookies: many, ..d() }), "login_cookies");
        let twice = vec!["user".to_string(), "user".to_string()];
        assert_eq!(key_of(Config { login_cookies: twice, ..d() }), "login_cookies[1]");
    }

    #[test]
    fn a_short_warning_window_is_refused_citing_wcag_unless_turned_off() {
        let short = Config { warn_after: 590, ..Config::default() };
        let error = short.validate().unwrap_err();
        assert_eq!(error.key(), "warn_after");
        assert!(error.to_string().contains("WCAG 2.2.1"), "{error}");
        let tests = Config { wcag_timing_check: false, ..short };
        assert!(tests.validate().is_ok());
        let warnings = tests.warnings();
        assert!(warnings.iter().any(|w| w.contains("wcag_timing_check = false")), "{warnings:?}");
        assert!(warnings.iter().any(|w| w.contains("login_cookies")), "{warnings:?}");
        let quiet = Config { login_cookies: vec!["user".into()], ..Config::default() };
        assert!(quiet.warnings().is_empty());
    }

    #[test]
    fn a_profile_fills_the_timing_left_unset_and_checks_what_is_set() {
        let pci = Config::for_profile(Profile::PciDss4);
        assert_eq!((pci.warn_after, pci.expire_after, pci.absolute_timeout), (780, 900, 43_200));
        let aal2 = Config::for_profile(Profile::NistAal2);
        assert_eq!((aal2.warn_after, aal2.expire_after, aal2.absolute_timeout), (3480, 3600, 86_400));
        // expire_after set, warn_after not: two minutes before it.
        let mut set = Config { profile: Some(Profile::NistAal3), expire_after: 600, ..Config::default() };
        set.fill_profile_timing(|key| key == "expire_after");
        assert_eq!((set.warn_after, set.expire_after, set.absolute_timeout), (480, 600, 43_200));
        let breach =
            Config { profile: Some(Profile::PciDss4), warn_after: 1740, expire_after: 1800, ..Config::default() };
        let error = breach.validate().unwrap_err();
        assert_eq!(error.key(), "expire_after");
        assert!(error.to_string().contains("8.2.8"), "{error}");
        let summary = Config::for_profile(Profile::NistAal3).compliance_summary();
        assert!(summary.contains("profile nist-aal3 (NIST SP 800-63B-4 AAL3)"), "{summary}");
        assert!(summary.contains("expire_after 900 s ≤ 900 s") && summary.contains("43200 s ≤ 43200 s"), "{summary}");
        assert!(Config::default().compliance_summary().contains("no compliance profile"));
        // Without a profile nothing changes.
        let mut plain = Config::default();
        plain.fill_profile_timing(|_| false);
        assert_eq!(plain, Config::default());
    }

    #[test]
    fn unknown_and_mistyped_keys_are_rejected_with_their_name() {
        use rocket::figment::{util::map, Figment};
        let figment = Figment::new().merge(("session_security", map!["expire_afer" => 10]));
        let error = figment.focus(CONFIG_TABLE).extract::<Config>().unwrap_err();
        assert!(error.to_string().contains("expire_afer"), "{error}");
        // The field that keeps Config open for new settings is no key.
        let figment = Figment::new().merge(("session_security", map!["__non_exhaustive" => 1]));
        assert!(figment.focus(CONFIG_TABLE).extract::<Config>().is_err());
        let figment = Figment::new().merge(("session_security", map!["warn_after" => -5]));
        let error = figment.focus(CONFIG_TABLE).extract::<Config>().unwrap_err();
        assert!(error.path.iter().any(|p| p == "warn_after") || error.to_string().contains("warn_after"), "{error}");
    }
}
