//! The HTML an app puts in its pages: stylesheet, warning dialog, cover and
//! script tag, with every setting in `data-*` attributes (no inline script
//! or style). Rendered by the crate itself ([`Snippet`]'s `Display`, for any
//! template engine or none), or, with the default feature `tera`, by the
//! app's own Tera engine from the crate's templates ([`register_templates`]);
//! a test keeps the two renderings the same.

use std::fmt;
use std::fmt::Write as _;

use serde::Serialize;

use crate::assets::Assets;
use crate::config::Config;
use crate::i18n::Language;
use crate::timing::Timeouts;

#[cfg(feature = "tera")]
pub use tera_glue::{register_templates, SNIPPET_TEMPLATE};

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
    /// `session-security-drafts.js`, loaded only with a draft key.
    drafts_url: String,
    /// `session-security-last-tab.js`, loaded only with `end_with_last_tab`.
    last_tab_url: String,
    ping_url: String,
    login_url: String,
    logout_url: String,
    logout_method: &'static str,
    warn_after: u32,
    expire_after: u32,
    confirm_form_discard: bool,
    keep_unsaved_forms: bool,
    /// `last_tab_grace` with `end_with_last_tab`, else 0 (off).
    end_with_last_tab: u32,
    /// Opaque per-person tag (see [`ActiveSession::person`](crate::ActiveSession::person)).
    person: String,
    /// With `keep_unsaved_forms`: the key that seals this person's draft.
    draft_key: Option<DraftKey>,
    lang: &'static str,
    title: &'static str,
    message: &'static str,
    time_left: &'static str,
    seconds: Vec<PluralForm>,
    stay: &'static str,
    sign_out: &'static str,
    unreached: &'static str,
    sign_out_failed: &'static str,
    /// The app's CSRF form field and token, posted with the logout request.
    csrf_field: Option<String>,
    csrf_token: Option<String>,
    cover_title: &'static str,
    cover_message: &'static str,
    cover_link: &'static str,
}

impl Snippet {
    pub(crate) fn new(config: &Config, timeouts: Timeouts, language: Language, person: String) -> Snippet {
        let assets = Assets::get();
        let base = &config.base;
        let t = language.texts();
        Snippet {
            css_url: format!("{base}/static/{}", assets.stylesheet.hashed_name),
            js_url: format!("{base}/static/{}", assets.script.hashed_name),
            drafts_url: format!("{base}/static/{}", assets.drafts.hashed_name),
            last_tab_url: format!("{base}/static/{}", assets.last_tab.hashed_name),
            ping_url: format!("{base}/ping"),
            login_url: config.login_url.clone(),
            logout_url: config.logout_url.clone(),
            logout_method: config.logout_method.as_str(),
            warn_after: timeouts.warn_after,
            expire_after: timeouts.expire_after,
            confirm_form_discard: config.confirm_form_discard,
            keep_unsaved_forms: config.keep_unsaved_forms,
            end_with_last_tab: if config.end_with_last_tab { config.last_tab_grace } else { 0 },
            person,
            draft_key: None,
            lang: t.tag,
            title: t.title,
            message: t.message,
            time_left: t.time_left,
            seconds: t.seconds.iter().map(|&(category, text)| PluralForm { category, text }).collect(),
            stay: t.stay,
            sign_out: t.sign_out,
            unreached: t.unreached,
            sign_out_failed: t.sign_out_failed,
            csrf_field: None,
            csrf_token: None,
            cover_title: t.cover_title,
            cover_message: t.cover_message,
            cover_link: t.cover_link,
        }
    }
}

/// The person's draft key (unpadded base64url); `Debug` does not show it.
#[derive(Clone, Serialize)]
#[serde(transparent)]
struct DraftKey(String);

impl fmt::Debug for DraftKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DraftKey(..)")
    }
}

impl Snippet {
    /// With `keep_unsaved_forms`, the key `session-security-drafts.js`
    /// seals a kept draft with (AES-GCM): given only in a page of an active
    /// session of that person; the module takes it out of the DOM at once and
    /// drops it when the session ends. Without a key (no person: no
    /// `login_cookies`) nothing could bring a kept page back, so the page
    /// is not kept: `keep_unsaved_forms` is off for it.
    pub(crate) fn with_draft_key(mut self, key: Option<String>) -> Snippet {
        self.keep_unsaved_forms &= key.is_some();
        self.draft_key = if self.keep_unsaved_forms { key.map(DraftKey) } else { None };
        self
    }

    /// Has "Sign out now" (and `window.sessionSecurity.signOut()`) send the
    /// app's CSRF token with the logout request, as the form field `field`:
    /// the name and value the app's own logout form carries, which its logout
    /// handler checks. Without it the script posts an empty form, which such
    /// a handler refuses: then the warning says that signing out did not work
    /// and every tab stays signed in (the other tabs are told only once the
    /// server took the sign-out). An empty `field` sends no token.
    ///
    /// ```
    /// # #[macro_use] extern crate rocket;
    /// use rocket::http::CookieJar;
    /// use rocket::response::content::RawHtml;
    /// use rocket_session_security::ActiveSession;
    ///
    /// #[get("/")]
    /// fn index(session: ActiveSession, jar: &CookieJar<'_>) -> RawHtml<String> {
    ///     // The app's own per-session token, the one its logout handler checks.
    ///     let token = jar.get_private("csrf").map(|c| c.value().to_string()).unwrap_or_default();
    ///     let snippet = session.snippet().logout_csrf_token("csrf_token", token);
    ///     RawHtml(format!("<!doctype html><title>Home</title><p>Hello</p>{snippet}"))
    /// }
    /// ```
    #[must_use]
    pub fn logout_csrf_token(mut self, field: impl Into<String>, token: impl Into<String>) -> Snippet {
        let field = field.into();
        (self.csrf_field, self.csrf_token) =
            if field.is_empty() { (None, None) } else { (Some(field), Some(token.into())) };
        self
    }

    /// Only the `<script>` tag, with every setting in its `data-*`
    /// attributes: for single-page apps that show their own warning through
    /// the script's JS API (`window.sessionSecurity`, `session-security:*`
    /// events) instead of the crate's dialog. The opt-in modules follow, each
    /// by its own tag on its own line: with `end_with_last_tab` the last-tab
    /// module (the closing tab's beacon), with `keep_unsaved_forms` (and a
    /// person) the drafts module, which seals the kept draft under this
    /// person's key.
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
        let attribute = |name: &str, value: &str| format!(" data-{name}=\"{}\"", escape_html(value));
        let mut tag = format!("<script src=\"{}\" defer data-session-security", escape_html(&self.js_url));
        for (name, value) in [
            ("warn-after", self.warn_after.to_string()),
            ("expire-after", self.expire_after.to_string()),
            ("ping-url", self.ping_url.clone()),
            ("login-url", self.login_url.clone()),
            ("logout-url", self.logout_url.clone()),
            ("logout-method", self.logout_method.to_string()),
            ("confirm-form-discard", self.confirm_form_discard.to_string()),
            ("keep-unsaved-forms", self.keep_unsaved_forms.to_string()),
            ("person", self.person.clone()),
            ("lang", self.lang.to_string()),
        ] {
            tag.push_str(&attribute(name, &value));
        }
        if let (Some(field), Some(token)) = (&self.csrf_field, &self.csrf_token) {
            tag.push_str(&attribute("csrf-field", field));
            tag.push_str(&attribute("csrf-token", token));
        }
        tag.push_str("></script>");
        // The opt-in modules, each by its own tag, right after (deferred scripts run in order).
        if self.end_with_last_tab > 0 {
            let _ = write!(
                tag,
                "\n<script src=\"{}\" defer{}{}></script>",
                escape_html(&self.last_tab_url),
                attribute("ping-url", &self.ping_url),
                attribute("end-with-last-tab", &self.end_with_last_tab.to_string())
            );
        }
        if let Some(DraftKey(key)) = &self.draft_key {
            let _ = write!(
                tag,
                "\n<script src=\"{}\" defer{}></script>",
                escape_html(&self.drafts_url),
                attribute("draft-key", key)
            );
        }
        tag
    }

    /// The warning dialog and the cover kept over a page with unsaved input
    /// (the ids of django-session-security, so its styles carry over).
    fn dialog(&self) -> String {
        let e = escape_html;
        let mut seconds = String::new();
        for form in &self.seconds {
            let _ = write!(seconds, " data-seconds-{}=\"{}\"", e(form.category), e(form.text));
        }
        format!(
            concat!(
                "<div id=\"session_security_warning\" class=\"session_security\" role=\"alertdialog\" aria-modal=\"true\"\n",
                "     aria-labelledby=\"session_security_title\" aria-describedby=\"session_security_message\" lang=\"{lang}\" hidden{seconds}>\n",
                "  <div class=\"session_security_overlay\"></div>\n",
                "  <div class=\"session_security_modal\">\n",
                "    <h2 id=\"session_security_title\">{title}</h2>\n",
                "    <p id=\"session_security_message\">{message} {time_left} <span id=\"session_security_counter\"></span></p>\n",
                "    <p id=\"session_security_unreached\" hidden>{unreached}</p>\n",
                "    <p id=\"session_security_signout_failed\" hidden>{sign_out_failed}</p>\n",
                "    <div class=\"session_security_actions\">\n",
                "      <button type=\"button\" id=\"session_security_stay\">{stay}</button>\n",
                "      <button type=\"button\" id=\"session_security_signout\">{sign_out}</button>\n",
                "    </div>\n",
                "    <p id=\"session_security_announcer\" class=\"session_security_sr\" aria-live=\"polite\"></p>\n",
                "  </div>\n",
                "</div>\n",
                "<div id=\"session_security_cover\" class=\"session_security_cover\" role=\"alert\" lang=\"{lang}\" hidden>\n",
                "  <h2>{cover_title}</h2>\n",
                "  <p>{cover_message} <a href=\"{login_url}\" target=\"_blank\" rel=\"noopener\">{cover_link}</a></p>\n",
                "</div>"
            ),
            lang = e(self.lang),
            seconds = seconds,
            title = e(self.title),
            message = e(self.message),
            time_left = e(self.time_left),
            stay = e(self.stay),
            sign_out = e(self.sign_out),
            unreached = e(self.unreached),
            sign_out_failed = e(self.sign_out_failed),
            cover_title = e(self.cover_title),
            cover_message = e(self.cover_message),
            login_url = e(&self.login_url),
            cover_link = e(self.cover_link),
        )
    }
}

impl fmt::Display for Snippet {
    /// The stylesheet link, the dialog, the cover and the script tag. Never
    /// fails: `to_string()` cannot panic.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "<link rel=\"stylesheet\" href=\"{}\">", escape_html(&self.css_url))?;
        writeln!(f, "{}", self.dialog())?;
        f.write_str(&self.script_tag())
    }
}

/// The crate's templates for an app's own Tera engine (feature `tera`).
#[cfg(feature = "tera")]
mod tera_glue {
    use rocket_dyn_templates::tera::Tera;

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

    /// Adds the crate's templates to an app's Tera engine, so its pages can
    /// `{% include "session_security/all.html.tera" %}` with
    /// `session_security` in the context ([`Snippet`](crate::Snippet) from
    /// [`ActiveSession::snippet`](crate::ActiveSession::snippet)). Templates
    /// the app already has under the same name are kept (so an app can
    /// override the dialog). Call it from `Template::custom`; never attach a
    /// second `Template::fairing()`. Needs the default feature `tera`.
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
            log::error!("session security templates could not be registered: {e}");
        }
    }

    pub(super) fn templates() -> impl Iterator<Item = (String, String)> {
        TemplateFiles::iter().filter_map(|name| {
            let file = TemplateFiles::get(&name)?;
            Some((name.to_string(), String::from_utf8_lossy(&file.data).into_owned()))
        })
    }
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
        Snippet::new(config, config.timeouts(), language, "p3rs0n".into()).to_string()
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
            "<p id=\"session_security_unreached\" hidden>Your request did not reach the server. Trying again…</p>",
            "data-warn-after=\"540\"",
            "data-expire-after=\"600\"",
            "data-ping-url=\"/session-security/ping\"",
            "data-login-url=\"/login\"",
            "data-logout-method=\"post\"",
            "data-person=\"p3rs0n\"",
            "data-seconds-one=\"{n} second\"",
            "Stay signed in",
            "Sign out now",
            "hidden",
        ] {
            assert!(html.contains(needle), "missing {needle} in {html}");
        }
        assert!(html.find("id=\"session_security_stay\"") < html.find("id=\"session_security_signout\""));
        assert!(!html.contains("style="), "{html}");
        assert!(!html.contains("<script>") && !html.contains("onclick"), "{html}");
        let script_tags = html.matches("<script").count();
        assert_eq!(script_tags, html.matches("<script src=").count());
    }

    #[test]
    fn the_script_tag_alone_has_the_settings_and_no_dialog() {
        let snippet = Snippet::new(&Config::default(), Config::default().timeouts(), Language::English, String::new());
        let tag = snippet.script_tag();
        assert!(tag.starts_with("<script src=\"/session-security/static/session-security."), "{tag}");
        for attribute in ["data-ping-url=\"/session-security/ping\"", "data-expire-after=\"600\"", "data-person=\"\""] {
            assert!(tag.contains(attribute), "{tag}");
        }
        assert!(tag.ends_with("></script>"), "{tag}");
        assert!(!tag.contains("session_security_warning") && !tag.contains("<link"), "{tag}");
        assert!(snippet.to_string().contains(&tag), "the full snippet embeds the same tag");
    }

    #[test]
    fn the_logout_csrf_token_goes_into_the_script_tag_escaped() {
        let plain = Snippet::new(&Config::default(), Config::default().timeouts(), Language::English, String::new());
        assert!(!plain.script_tag().contains("data-csrf"), "none unless the app gives one");
        let tag = plain.clone().logout_csrf_token("csrf_token", "a\"b<c>&d").script_tag();
        assert!(tag.contains(" data-csrf-field=\"csrf_token\" data-csrf-token=\"a&quot;b&lt;c&gt;&amp;d\""), "{tag}");
        assert!(!plain.logout_csrf_token("", "t").script_tag().contains("data-csrf"), "an empty field name sends none");
        let html = snippet(&Config::default(), Language::English);
        assert!(
            html.contains("<p id=\"session_security_signout_failed\" hidden>Signing out did not work. Try again.</p>")
        );
    }

    #[test]
    fn the_last_tab_grace_goes_into_the_script_tag_only_when_on() {
        let tag =
            |config: &Config| Snippet::new(config, config.timeouts(), Language::English, String::new()).script_tag();
        let off = tag(&Config { last_tab_grace: 20, ..Config::default() });
        assert!(!off.contains("data-end-with-last-tab") && !off.contains("last-tab."), "{off}");
        let on = Config { end_with_last_tab: true, last_tab_grace: 20, ..Config::default() };
        let (main, module) = tag(&on).split_once('\n').map(|(a, b)| (a.to_owned(), b.to_owned())).expect("two tags");
        assert!(!main.contains("data-end-with-last-tab"), "{main}");
        assert_eq!(
            module,
            format!(
                "<script src=\"/session-security/static/{}\" defer data-ping-url=\"/session-security/ping\" \
                 data-end-with-last-tab=\"20\"></script>",
                Assets::get().last_tab.hashed_name
            ),
            "the last-tab module, after the main script"
        );
    }

    #[test]
    fn the_draft_key_goes_into_the_script_tag_only_with_keep_unsaved_forms_and_not_into_debug() {
        let key = "k".repeat(43);
        let tag = |config: &Config| {
            Snippet::new(config, config.timeouts(), Language::English, "p".into()).with_draft_key(Some(key.clone()))
        };
        assert!(!tag(&Config::default()).script_tag().contains("data-draft-key"), "off without keep_unsaved_forms");
        let keeping = Config { keep_unsaved_forms: true, ..Config::default() };
        let snippet = tag(&keeping);
        let drafts = &Assets::get().drafts.hashed_name;
        let (main, module) =
            snippet.script_tag().split_once('\n').map(|(a, b)| (a.to_owned(), b.to_owned())).expect("two tags");
        assert!(main.contains(" data-keep-unsaved-forms=\"true\"") && !main.contains(&key), "{main}");
        assert_eq!(
            module,
            format!("<script src=\"/session-security/static/{drafts}\" defer data-draft-key=\"{key}\"></script>"),
            "the drafts module, after the main script"
        );
        assert!(!format!("{snippet:?}").contains(&key), "Debug shows no key: {snippet:?}");
        // Nobody (no login_cookies): nothing could bring a kept page back, so none is kept.
        let nobody = Snippet::new(&keeping, keeping.timeouts(), Language::English, String::new()).with_draft_key(None);
        assert!(!nobody.script_tag().contains("data-draft-key"), "no person, no key");
        assert!(!nobody.script_tag().contains('\n'), "no module");
        assert!(nobody.script_tag().contains(" data-keep-unsaved-forms=\"false\""), "{}", nobody.script_tag());
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

    #[cfg(feature = "tera")]
    mod with_tera {
        use super::*;
        use rocket_dyn_templates::tera::{Context, Tera};

        fn app_engine() -> Tera {
            let mut tera = Tera::default();
            tera.autoescape_on(vec![".html.tera", ".html"]);
            register_templates(&mut tera);
            tera
        }

        /// Whitespace between tags and runs of spaces do not matter to a browser.
        fn normalized(html: &str) -> String {
            html.split_whitespace().collect::<Vec<_>>().join(" ").replace("> <", "><")
        }

        #[test]
        fn the_crates_rendering_and_the_tera_templates_agree() {
            let mut tera = app_engine();
            // Tera's default escaper also writes '/' as &#x2F;, which browsers read as '/'.
            tera.set_escape_fn(escape_html);
            let tricky = Config { login_url: "/login?a=\"<b>&c='d'".into(), ..Config::default() };
            let last_tab = Config { end_with_last_tab: true, last_tab_grace: 20, ..Config::default() };
            let keeping = Config { keep_unsaved_forms: true, ..Config::default() };
            let both = Config { keep_unsaved_forms: true, ..last_tab.clone() };
            for config in [Config::default(), tricky, last_tab, keeping, both] {
                for (&language, csrf) in Language::ALL.iter().zip([None, Some(("csrf", "t\"<&>"))].into_iter().cycle())
                {
                    let mut snippet = Snippet::new(&config, config.timeouts(), language, "p-1_x".into())
                        .with_draft_key(Some("Zz-_".repeat(10) + "abc"));
                    if let Some((field, token)) = csrf {
                        snippet = snippet.logout_csrf_token(field, token);
                    }
                    let mut context = Context::new();
                    context.insert("session_security", &snippet);
                    let from_tera = tera.render(SNIPPET_TEMPLATE, &context).expect("renders");
                    assert_eq!(normalized(&from_tera), normalized(&snippet.to_string()), "{language:?}");
                }
            }
        }

        #[test]
        fn app_engine_gets_the_same_templates_and_keeps_its_overrides() {
            let mut tera = Tera::default();
            tera.add_raw_template("session_security/dialog.html.tera", "custom dialog").unwrap();
            register_templates(&mut tera);
            tera.add_raw_template("page.html", "<body>{% include \"session_security/all.html.tera\" %}</body>")
                .unwrap();
            let mut context = Context::new();
            context.insert(
                "session_security",
                &Snippet::new(&Config::default(), Config::default().timeouts(), Language::German, String::new()),
            );
            let html = tera.render("page.html", &context).unwrap();
            assert!(html.contains("custom dialog"));
            assert!(html.contains("data-session-security"));
            let empty = tera.render("page.html", &Context::new()).unwrap();
            assert_eq!(empty, "<body></body>");
        }
    }
}
