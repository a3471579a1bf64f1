//! The browser script and stylesheet, embedded in the binary and served
//! under `{base}/static/` with content-hashed names, so a page can cache
//! them for a year and still get a new version the moment it changes.
//!
//! The sources in `static/` are written to be read: whole-line comments and
//! indentation. Browsers get them compacted (those lines and the indentation
//! dropped), which keeps script + stylesheet within 4 KB gzipped without a
//! build step or a minifier.

use std::sync::OnceLock;

use rocket::http::{ContentType, Header, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::{self, Responder, Response};

/// The names of the crate's own routes start so (`session_security_ping`,
/// `session_security_asset`): passive, and never an app's route by accident.
pub(crate) const CRATE_ROUTE_PREFIX: &str = "session_security_";

/// The asset route, named after the crate (never an app's `passive_routes`
/// entry by accident). Mounted at `base`.
pub(crate) fn routes() -> Vec<rocket::Route> {
    let mut routes = rocket::routes![asset];
    for route in &mut routes {
        route.name = Some(format!("{CRATE_ROUTE_PREFIX}asset").into());
    }
    routes
}

#[derive(rust_embed::Embed)]
#[folder = "static/"]
struct StaticFiles;

/// One embedded file and how it is served.
pub(crate) struct Asset {
    /// `session-security.<hash>.js`
    pub hashed_name: String,
    plain_name: &'static str,
    content_type: ContentType,
    etag: String,
    data: Vec<u8>,
}

/// The two assets of the crate.
pub(crate) struct Assets {
    pub script: Asset,
    pub stylesheet: Asset,
}

impl Assets {
    /// Loaded once per process; the data is compiled in.
    pub fn get() -> &'static Assets {
        static ASSETS: OnceLock<Assets> = OnceLock::new();
        ASSETS.get_or_init(|| Assets {
            script: Asset::load("session-security", "js", ContentType::JavaScript),
            stylesheet: Asset::load("session-security", "css", ContentType::CSS),
        })
    }

    fn find(&self, file: &str) -> Option<(&Asset, bool)> {
        [&self.script, &self.stylesheet].into_iter().find_map(|asset| {
            if file == asset.hashed_name {
                Some((asset, true))
            } else if file == asset.plain_name {
                Some((asset, false))
            } else {
                None
            }
        })
    }
}

impl Asset {
    fn load(stem: &str, extension: &str, content_type: ContentType) -> Asset {
        let plain_name: &'static str = Box::leak(format!("{stem}.{extension}").into_boxed_str());
        // Both files are part of the crate; a build without them is broken, not a user error.
        let file = StaticFiles::get(plain_name).unwrap_or_else(|| panic!("static/{plain_name} is not embedded"));
        let hash: String = file.metadata.sha256_hash()[..6].iter().map(|b| format!("{b:02x}")).collect();
        Asset {
            hashed_name: format!("{stem}.{hash}.{extension}"),
            plain_name,
            content_type,
            etag: format!("\"{hash}\""),
            data: compact(&String::from_utf8_lossy(&file.data)).into_bytes(),
        }
    }
}

/// Drops blank lines, whole-line comments (`// …` and `/* … */`) and
/// indentation. Safe for our sources, which hold no template literal (a
/// unit test checks): no JavaScript string can span lines otherwise.
fn compact(source: &str) -> String {
    source
        .lines()
        .map(str::trim)
        .filter(|line| !(line.is_empty() || line.starts_with("//") || line.starts_with("/*") && line.ends_with("*/")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The request's `If-None-Match`, if any.
pub(crate) struct IfNoneMatch<'r>(Option<&'r str>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for IfNoneMatch<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(IfNoneMatch(req.headers().get_one("If-None-Match")))
    }
}

pub(crate) enum AssetAnswer {
    Found { asset: &'static Asset, immutable: bool },
    NotModified { asset: &'static Asset },
}

impl<'r> Responder<'r, 'static> for AssetAnswer {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let mut res = Response::new();
        match self {
            AssetAnswer::Found { asset, immutable } => {
                res.set_header(asset.content_type.clone());
                res.set_header(Header::new("ETag", asset.etag.clone()));
                // The hashed name never changes content; the plain one must revalidate.
                let caching = if immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
                res.set_header(Header::new("Cache-Control", caching));
                let data: &'static [u8] = asset.data.as_slice();
                res.set_sized_body(data.len(), std::io::Cursor::new(data));
            }
            AssetAnswer::NotModified { asset } => {
                res.set_status(Status::NotModified);
                res.set_header(Header::new("ETag", asset.etag.clone()));
            }
        }
        Ok(res)
    }
}

#[rocket::get("/static/<file>")]
fn asset(file: &str, if_none_match: IfNoneMatch<'_>) -> Option<AssetAnswer> {
    let (asset, immutable) = Assets::get().find(file)?;
    let matches =
        if_none_match.0.is_some_and(|v| v.split(',').any(|tag| tag.trim().trim_start_matches("W/") == asset.etag));
    Some(if matches { AssetAnswer::NotModified { asset } } else { AssetAnswer::Found { asset, immutable } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_follow_content() {
        let assets = Assets::get();
        assert!(assets.script.hashed_name.starts_with("session-security."));
        assert!(assets.script.hashed_name.ends_with(".js"));
        assert_eq!(assets.script.hashed_name.len(), "session-security..js".len() + 12);
        assert!(assets.find(&assets.stylesheet.hashed_name).is_some_and(|(_, immutable)| immutable));
        assert!(assets.find("session-security.css").is_some_and(|(_, immutable)| !immutable));
        assert!(assets.find("../Cargo.toml").is_none());
        assert!(!assets.script.data.is_empty());
    }

    #[test]
    fn compaction_drops_comment_lines_and_indentation_only() {
        let source =
            "// header\n/* css note */\nconst a = 1 // kept: not a whole line\n\n    if (a) {\n      f('//x')\n    }\n";
        assert_eq!(compact(source), "const a = 1 // kept: not a whole line\nif (a) {\nf('//x')\n}");
    }

    #[test]
    fn sources_are_safe_to_compact() {
        for asset in ["session-security.js", "session-security.css"] {
            let file = StaticFiles::get(asset).expect("embedded");
            let text = String::from_utf8_lossy(&file.data);
            assert!(!text.contains('`'), "{asset}: a template literal could span lines; compaction would change it");
            assert!(!text.lines().any(|l| l.trim_end().ends_with('\\')), "{asset}: a line continuation");
        }
    }
}
