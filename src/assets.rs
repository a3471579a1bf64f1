//! The browser script and stylesheet, embedded in the binary and served
//! under `{base}/static/` with content-hashed names, so a page can cache
//! them for a year and still get a new version the moment it changes.
//!
//! The sources in `static/` are written to be read. Browsers get the
//! minified build in `static/dist/` (`npm run build`: terser and esbuild,
//! pinned in `package.json`), committed, so building the crate needs no
//! node; CI checks that the committed build is what the sources produce.
//! Script + stylesheet stay within 4.5 KB gzipped. Two opt-in modules are
//! loaded only by pages that need them: the drafts module
//! (`keep_unsaved_forms`, about 0.9 KB) and the last-tab module
//! (`end_with_last_tab`, about 0.35 KB).

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

/// The built files only (`session-security.min.js`, `.min.css`, and the
/// opt-in modules' `.min.js`), not the sources.
#[derive(rust_embed::Embed)]
#[folder = "static/dist/"]
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

/// The assets of the crate.
pub(crate) struct Assets {
    pub script: Asset,
    pub stylesheet: Asset,
    /// Loaded only by pages with `keep_unsaved_forms`: seals the kept draft.
    pub drafts: Asset,
    /// Loaded only with `end_with_last_tab`: the closing tab's beacon.
    pub last_tab: Asset,
}

impl Assets {
    /// Loaded once per process; the data is compiled in.
    pub fn get() -> &'static Assets {
        static ASSETS: OnceLock<Assets> = OnceLock::new();
        ASSETS.get_or_init(|| Assets {
            script: Asset::load("session-security", "js", ContentType::JavaScript),
            stylesheet: Asset::load("session-security", "css", ContentType::CSS),
            drafts: Asset::load("session-security-drafts", "js", ContentType::JavaScript),
            last_tab: Asset::load("session-security-last-tab", "js", ContentType::JavaScript),
        })
    }

    fn find(&self, file: &str) -> Option<(&Asset, bool)> {
        [&self.script, &self.stylesheet, &self.drafts, &self.last_tab].into_iter().find_map(|asset| {
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
        let built = format!("{stem}.min.{extension}");
        // Both files are part of the crate; a build without them is broken, not a user error.
        let file = StaticFiles::get(&built).unwrap_or_else(|| panic!("static/dist/{built} is not embedded"));
        let hash: String = file.metadata.sha256_hash()[..6].iter().map(|b| format!("{b:02x}")).collect();
        Asset {
            hashed_name: format!("{stem}.{hash}.{extension}"),
            plain_name,
            content_type,
            etag: format!("\"{hash}\""),
            data: file.data.into_owned(),
        }
    }
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
        assert!(assets.drafts.hashed_name.starts_with("session-security-drafts."));
        assert!(assets.find("session-security-drafts.js").is_some_and(|(asset, _)| asset.data == assets.drafts.data));
        assert!(assets
            .find("session-security-last-tab.js")
            .is_some_and(|(asset, _)| asset.data == assets.last_tab.data));
        assert!(!assets.script.data.is_empty());
    }

    #[test]
    fn serves_the_committed_build_as_it_is() {
        let assets = Assets::get();
        let root = env!("CARGO_MANIFEST_DIR");
        for (asset, built) in [
            (&assets.script, "session-security.min.js"),
            (&assets.stylesheet, "session-security.min.css"),
            (&assets.drafts, "session-security-drafts.min.js"),
            (&assets.last_tab, "session-security-last-tab.min.js"),
        ] {
            let on_disk = std::fs::read(format!("{root}/static/dist/{built}")).expect("the build is committed");
            assert_eq!(asset.data, on_disk, "{built}");
        }
        assert!(StaticFiles::get("session-security.js").is_none(), "the readable source is not embedded");
    }
}
