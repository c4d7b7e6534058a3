//! Lists split into pages, in each API's way.

use reqwest::header::HeaderName;
use serde_json::Value;
use zonectl_core::Error;

use super::*;

/// How a list is split into pages.
#[derive(Debug, Clone, Copy)]
pub enum Paging {
    /// One answer holds the whole list (a JSON array).
    Single,
    /// `page=1`, `2`, … in the query; the page count in the first of these response headers
    /// present (LuaDNS: `X-Total-Pages` or `X-Pages-Count`).
    PageQuery {
        /// Headers that may hold the page count.
        count_headers: &'static [&'static str],
    },
    /// ZoneID's pager headers: an answer with `x-pager-enabled: 1` is one page of
    /// `x-pager-pages`; the next ones are asked with `x-pager-page` and the answer's
    /// `x-pager-limit`. Pages are followed, never asked for: an unpaged list costs one
    /// request.
    PagerHeaders,
    /// Django REST Framework: `{"count","next","previous","results"}`, following `next` to
    /// the end; a bare array is the whole list.
    NextLink,
}

/// Pages past this many are refused: a server that never ends its list is broken.
pub(super) const MAX_PAGES: usize = 10_000;

impl HttpClient {
    /// Every item of a list, in the API's way of paging.
    pub async fn get_all<T: serde::de::DeserializeOwned>(
        &self,
        request: &Request,
        paging: Paging,
        about: About<'_>,
    ) -> Result<Vec<T>, Error> {
        let mut items = Vec::new();
        let mut next = Some(request.clone());
        let mut page = 1u64;
        while let Some(asked) = next.take() {
            if page as usize > MAX_PAGES {
                return Err(self.protocol(format!("{} lists more than {MAX_PAGES} pages", request.path)));
            }
            let asked = match paging {
                Paging::PageQuery { .. } => asked.query("page", page),
                Paging::Single | Paging::NextLink | Paging::PagerHeaders => asked,
            };
            let response = self.call(&asked, about).await?;
            match paging {
                Paging::Single => items.extend(response.json::<Vec<T>>(&self.provider)?),
                Paging::PageQuery { count_headers } => {
                    items.extend(response.json::<Vec<T>>(&self.provider)?);
                    let pages = count_headers.iter().find_map(|h| response.header(h)?.trim().parse::<u64>().ok());
                    if pages.is_some_and(|pages| page < pages) {
                        next = Some(request.clone());
                    }
                }
                Paging::PagerHeaders => {
                    items.extend(response.json::<Vec<T>>(&self.provider)?);
                    let enabled = response.header("x-pager-enabled").is_some_and(|v| v.trim() == "1");
                    let pages = response.header("x-pager-pages").and_then(|v| v.trim().parse::<u64>().ok());
                    let limit = response.header("x-pager-limit").unwrap_or("100").trim().to_owned();
                    if enabled && pages.is_some_and(|pages| page < pages) {
                        next = Some(
                            request
                                .clone()
                                .header(HeaderName::from_static("x-pager-page"), page + 1)
                                .header(HeaderName::from_static("x-pager-limit"), limit),
                        );
                    }
                }
                Paging::NextLink => match response.json::<Value>(&self.provider)? {
                    Value::Array(list) => items.extend(self.items::<T>(list)?),
                    Value::Object(mut object) => {
                        let Some(Value::Array(list)) = object.remove("results") else {
                            return Err(
                                self.protocol(format!("{}: neither a list nor a page of results", request.path))
                            );
                        };
                        items.extend(self.items::<T>(list)?);
                        if let Some(link) = object.get("next").and_then(Value::as_str) {
                            next = Some(self.follow(request, link)?);
                        }
                    }
                    _ => return Err(self.protocol(format!("{}: neither a list nor a page of results", request.path))),
                },
            }
            page += 1;
        }
        Ok(items)
    }

    pub(super) fn items<T: serde::de::DeserializeOwned>(&self, list: Vec<Value>) -> Result<Vec<T>, Error> {
        serde_json::from_value(Value::Array(list))
            .map_err(|e| self.protocol(format!("a list item that is not what the API documents: {e}")))
    }

    /// The request for a `next` link: only to this endpoint (the link's scheme and host may
    /// be a proxy's view of it; its path must lie under the endpoint's), never elsewhere
    /// with our credentials.
    pub(super) fn follow(&self, request: &Request, link: &str) -> Result<Request, Error> {
        let url = self.endpoint.join(link).map_err(|e| self.protocol(format!("next page link '{link}': {e}")))?;
        let base = self.endpoint.path().trim_end_matches('/');
        let path = url
            .path()
            .strip_prefix(base)
            .filter(|rest| rest.is_empty() || rest.starts_with('/'))
            .ok_or_else(|| self.protocol(format!("next page link '{link}' leads away from the API at {base}")))?;
        let query = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        Ok(Request { path: path.to_owned(), query, ..request.clone() })
    }
}
