//! The HTML an app puts in its pages: stylesheet, warning dialog, cover and
//! script tag, with every setting in `data-*` attributes (no inline script
//! or style). Rendered from the crate's Tera templates, either by the crate
//! ([`Snippet`]'s `Display`) or by the app's own Tera engine
//! ([`register_templates`]).

use std::fmt;
use std::sync::OnceLock;

use rocket_dyn_templates::tera::{Context, Tera};
use serde::Serialize;

use crate::assets::Assets;
use crate::config::{Config, Timeouts};
use crate::i18n::Language;

#[derive(rust_embed::Embed)]
#[folder = "templates/"]
struct TemplateFiles;

/// The name to `{% include %}` in an app's Tera template (after
/// [`register_templates`]): stylesheet, dialog, cover and script.
///
/// ```
/// assert_eq!(rocket_session_security::SNIPPET_TEMPLATE, "session_security/all.html.tera");
/// ```
pub const SNIPPET_TEMPLATE: &str = "session_security/all.html.tera";

/// The script tag alone (see [`Snippet::script_tag`]).
const SCRIPT_TEMPLATE: &str = "session_security/script.html.tera";

/// One plural form of the countdown, e.g. `("one", "{n} second")`.
#[derive(Debug, Clone, Serialize)]
struct PluralForm {
    category: &'static str,
    text: &'static str,
}

/// What the browser needs to watch one session: rendered as HTML by
/// `to_string()` (for any template engine; the HTML is already escaped, so
/// insert it unescaped), or given to Tera as the `session_security` context
/// value for `{% include "session_security/all.html.tera" %}`.
///
/// Get one from [`ActiveSession::snippet`](crate::ActiveSession::snippet).
///
/// ```
/// # #[macro_use] extern crate rocket;
/// use rocket::response::content::RawHtml;
/// use rocket_session_security::ActiveSession;
///
/// #[get("/")]
/// fn index(session: ActiveSession) -> RawHtml<String> {
///     RawHtml(format!("<!doctype html><title>Home</title><p>Hello</p>{}", session.snippet()))
/// }
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct Snippet {
    css_url: String,
    js_url: String,
    ping_url: String,
    login_url: String,
    logout_url: String,
    logout_method: &'static str,
    warn_after: u32,
    expire_after: u32,
    confirm_form_discard: bool,
    keep_unsaved_forms: bool,
    lang: &'static str,
    title: &'static str,
    message: &'static str,
    time_left: &'static str,
    seconds: Vec<PluralForm>,
    stay: &'static str,
    sign_out: &'static str,
    cover_title: &'static str,
    cover_message: &'static str,
    cover_link: &'static str,
    person: String,
}

impl Snippet {
    pub(crate) fn new(config: &Config, timeouts: Timeouts, language: Language) -> Snippet {
        let assets = Assets::get();
        let base = &config.base;
        let t = language.texts();
        Snippet {
            css_url: format!("{base}/static/{}", assets.stylesheet.hashed_name),
            js_url: format!("{base}/static/{}", assets.script.hashed_name),
            ping_url: format!("{base}/ping"),
            login_url: config.login_url.clone(),
            logout_url: config.logout_url.clone(),
            logout_method: config.logout_method.as_str(),
            warn_after: timeouts.warn_after,
            expire_after: timeouts.expire_after,
            confirm_form_discard: config.confirm_form_discard,
            keep_unsaved_forms: config.keep_unsaved_forms,
            lang: t.tag,
            title: t.title,
            message: t.message,
            time_left: t.time_left,
            seconds: t.seconds.iter().map(|&(category, text)| PluralForm { category, text }).collect(),
            stay: t.stay,
            sign_out: t.sign_out,
            cover_title: t.cover_title,
            cover_message: t.cover_message,
            cover_link: t.cover_link,
            person: String::new(),
        }
    }
}

impl Snippet {
    /// Only the `<script>` tag, with every setting in its `data-*`
    /// attributes: for single-page apps that show their own warning through
    /// the script's JS API (`window.sessionSecurity`, `session-security:*`
    /// events) instead of the crate's dialog.
    ///
    /// ```
    /// # #[macro_use] extern crate rocket;
    /// use rocket::response::content::RawHtml;
    /// use rocket_session_security::ActiveSession;
    ///
    /// #[get("/app")]
    /// fn shell(session: ActiveSession) -> RawHtml<String> {
    ///     RawHtml(format!("<!doctype html><div id=app></div><script src=/app.js defer></script>{}",
    ///         session.snippet().script_tag()))
    /// }
    /// ```
    pub fn script_tag(&self) -> String {
        self.render(SCRIPT_TEMPLATE).map(|tag| tag.trim().to_string()).unwrap_or_default()
    }

    fn render(&self, template: &str) -> Result<String, fmt::Error> {
        let mut context = Context::new();
        context.insert("session_security", self);
        own_engine().render(template, &context).map_err(|e| {
            rocket::log::private::error!("session security snippet failed to render: {e}");
            fmt::Error
        })
    }
}

impl fmt::Display for Snippet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(SNIPPET_TEMPLATE)?)
    }
}

/// Adds the crate's templates to an app's Tera engine, so its pages can
/// `{% include "session_security/all.html.tera" %}`. Templates the app
/// already has under the same name are kept (so an app can override the
/// dialog). Call it from `Template::custom`; never attach a second
/// `Template::fairing()`.
///
/// ```
/// use rocket_dyn_templates::Template;
///
/// let rocket = rocket::build().attach(Template::custom(|engines| {
///     rocket_session_security::register_templates(&mut engines.tera);
/// }));
/// ```
pub fn register_templates(tera: &mut Tera) {
    let existing: Vec<String> = tera.get_template_names().map(str::to_string).collect();
    let ours = templates().filter(|(name, _)| !existing.iter().any(|e| e == name));
    if let Err(e) = tera.add_raw_templates(ours) {
        rocket::log::private::error!("session security templates could not be registered: {e}");
    }
}

fn templates() -> impl Iterator<Item = (String, String)> {
    TemplateFiles::iter().filter_map(|name| {
        let file = TemplateFiles::get(&name)?;
        Some((name.to_string(), String::from_utf8_lossy(&file.data).into_owned()))
    })
}

/// The crate's own engine, for `Snippet`'s `Display`.
fn own_engine() -> &'static Tera {
    static ENGINE: OnceLock<Tera> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut tera = Tera::default();
        tera.autoescape_on(vec![".html.tera"]);
        tera.set_escape_fn(escape_html);
        if let Err(e) = tera.add_raw_templates(templates()) {
            rocket::log::private::error!("session security templates do not parse: {e}");
        }
        tera
    })
}

/// HTML escaping for text and quoted attributes; unlike Tera's default it
/// leaves `/` alone, so URLs stay readable in the page source.
fn escape_html(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snippet(config: &Config, language: Language) -> String {
        Snippet::new(config, config.timeouts(), language).to_string()
    }

    #[test]
    fn renders_the_dom_contract_without_inline_script_or_style() {
        let html = snippet(&Config::default(), Language::English);
        for needle in [
            "id=\"session_security_warning\"",
            "role=\"alertdialog\"",
            "aria-modal=\"true\"",
            "aria-labelledby=\"session_security_title\"",
            "aria-describedby=\"session_security_message\"",
            "id=\"session_security_counter\"",
            "id=\"session_security_stay\"",
            "id=\"session_security_signout\"",
            "data-warn-after=\"540\"",
            "data-expire-after=\"600\"",
            "data-ping-url=\"/session-security/ping\"",
            "data-login-url=\"/login\"",
            "data-logout-method=\"post\"",
            "data-seconds-one=\"{n} second\"",
            "Stay signed in",
            "Sign out now",
            "hidden",
        ] {
            assert!(html.contains(needle), "missing {needle} in {html}");
        }
        assert!(html.find("session_security_stay") < html.find("session_security_signout"));
        assert!(!html.contains("style="), "{html}");
        assert!(!html.contains("<script>") && !html.contains("onclick"), "{html}");
        let script_tags = html.matches("<script").count();
        assert_eq!(script_tags, html.matches("<script src=").count());
    }

    #[test]
    fn the_script_tag_alone_has_the_settings_and_no_dialog() {
        let tag = Snippet::new(&Config::default(), Config::default().timeouts(), Language::English).script_tag();
        assert!(tag.starts_with("<script src=\"/session-security/static/session-security."), "{tag}");
        assert!(tag.contains("data-ping-url=\"/session-security/ping\"") && tag.ends_with("</script>"), "{tag}");
        assert!(!tag.contains("session_security_warning") && !tag.contains("<link"), "{tag}");
        let all = Snippet::new(&Config::default(), Config::default().timeouts(), Language::English).to_string();
        assert!(all.contains(&tag), "the full snippet embeds the same tag");
    }

    #[test]
    fn escapes_configured_values_and_translates() {
        let config = Config { login_url: "/login?a=\"><script>".into(), ..Config::default() };
        let html = snippet(&config, Language::French);
        assert!(!html.contains("\"><script>"), "{html}");
        assert!(html.contains("&quot;&gt;&lt;script&gt;"), "{html}");
        assert!(html.contains("Rester connecté"));
        assert!(html.contains("lang=\"fr\""));
    }

    #[test]
    fn app_engine_gets_the_same_templates_and_keeps_its_overrides() {
        let mut tera = Tera::default();
        tera.add_raw_template("session_security/dialog.html.tera", "custom dialog").unwrap();
        register_templates(&mut tera);
        tera.add_raw_template("page.html", "<body>{% include \"session_security/all.html.tera\" %}</body>").unwrap();
        let mut context = Context::new();
        context.insert(
            "session_security",
            &Snippet::new(&Config::default(), Config::default().timeouts(), Language::German),
        );
        let html = tera.render("page.html", &context).unwrap();
        assert!(html.contains("custom dialog"));
        assert!(html.contains("data-session-security"));
        let empty = tera.render("page.html", &Context::new()).unwrap();
        assert_eq!(empty, "<body></body>");
    }
}
