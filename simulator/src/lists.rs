//! `/events/list`, `/purchases/product_list` and `/segments/list`: what they list, in which
//! order, a page at a time.
//!
//! - Event names come sorted (Braze: "sorted alphabetically"), here by bytes, duplicates
//!   removed. Braze does not say how products are ordered; its example is in byte order
//!   (digits, then capitals, then lower case), so they are sorted the same way.
//! - Segments come in creation order, oldest first, or newest first for `sort_direction=desc`.
//!   The simulator's creation order is [`crate::SimulatorConfig::segments`] in order, then
//!   [`crate::SimulatorConfig::untracked_segments`]. Each has the name from
//!   [`crate::SimulatorConfig::segment_names`] (its id when there is none; untracked ones carry
//!   their own) and no tags (`"tags": []`).
//! - A page holds 250 names (events, products) or 100 segments; a page shorter than that is
//!   the last, and a page past the end is an empty list. Braze documents `page` from 0 and the
//!   page sizes for events and segments; its product list page says neither, so products page
//!   like events (from 0, 250 a page).

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use crate::endpoints::Endpoint;
use crate::params::SortDirection;
use crate::SimulatorConfig;

/// Event names per page of `/events/list`.
pub(crate) const EVENTS_PAGE_SIZE: usize = 250;
/// Product ids per page of `/purchases/product_list`.
pub(crate) const PRODUCTS_PAGE_SIZE: usize = 250;
/// Segments per page of `/segments/list`.
pub(crate) const SEGMENTS_PAGE_SIZE: usize = 100;

/// One entry of `/segments/list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct SegmentEntry {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) analytics_tracking_enabled: bool,
    pub(crate) tags: Vec<String>,
}

/// What the three lists hold, in their order.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    events: Vec<String>,
    products: Vec<String>,
    /// Oldest first.
    segments: Vec<SegmentEntry>,
}

impl Catalog {
    pub(crate) fn new(config: &SimulatorConfig) -> Self {
        let sorted = |names: &[String]| {
            let mut names = names.to_vec();
            names.sort();
            names.dedup();
            names
        };
        let tracked = config.segments.iter().map(|id| SegmentEntry {
            id: id.clone(),
            name: config
                .segment_names
                .get(id)
                .cloned()
                .unwrap_or_else(|| id.clone()),
            analytics_tracking_enabled: true,
            tags: Vec::new(),
        });
        let untracked = config
            .untracked_segments
            .iter()
            .map(|(id, name)| SegmentEntry {
                id: id.clone(),
                name: name.clone(),
                analytics_tracking_enabled: false,
                tags: Vec::new(),
            });
        Self {
            events: sorted(&config.events),
            products: sorted(&config.products),
            segments: tracked.chain(untracked).collect(),
        }
    }

    /// The body of `/events/list?page=…`.
    pub(crate) fn events_page(&self, page: u64) -> Vec<u8> {
        list_body(
            Endpoint::EventsList,
            page_of(&self.events, page, EVENTS_PAGE_SIZE),
        )
    }

    /// The body of `/purchases/product_list?page=…`.
    pub(crate) fn products_page(&self, page: u64) -> Vec<u8> {
        list_body(
            Endpoint::ProductList,
            page_of(&self.products, page, PRODUCTS_PAGE_SIZE),
        )
    }

    /// The body of `/segments/list?page=…&sort_direction=…`.
    pub(crate) fn segments_page(&self, page: u64, direction: SortDirection) -> Vec<u8> {
        match direction {
            SortDirection::Asc => list_body(
                Endpoint::SegmentsList,
                page_of(&self.segments, page, SEGMENTS_PAGE_SIZE),
            ),
            SortDirection::Desc => {
                let newest_first: Vec<SegmentEntry> = self.segments.iter().rev().cloned().collect();
                list_body(
                    Endpoint::SegmentsList,
                    page_of(&newest_first, page, SEGMENTS_PAGE_SIZE),
                )
            }
        }
    }
}

/// Page `page` (from 0) of `items`, `size` a page: empty past the end.
fn page_of<T>(items: &[T], page: u64, size: usize) -> &[T] {
    let start = usize::try_from(page)
        .ok()
        .and_then(|page| page.checked_mul(size))
        .unwrap_or(usize::MAX);
    if start >= items.len() {
        return &[];
    }
    &items[start..items.len().min(start + size)]
}

/// `{"message": "success", "<key>": [...]}`, in that order.
fn list_body<T: Serialize>(endpoint: Endpoint, items: &[T]) -> Vec<u8> {
    let key = endpoint.list_key().expect("a list has a key");
    let mut body = Vec::new();
    let mut serializer = serde_json::Serializer::new(&mut body);
    let written = (|| {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("message", "success")?;
        map.serialize_entry(key, items)?;
        map.end()
    })();
    written.expect("a list serializes");
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_split_and_end_empty() {
        let items: Vec<u32> = (0..7).collect();
        assert_eq!(page_of(&items, 0, 3), [0, 1, 2]);
        assert_eq!(page_of(&items, 1, 3), [3, 4, 5]);
        assert_eq!(page_of(&items, 2, 3), [6]);
        assert!(page_of(&items, 3, 3).is_empty());
        assert!(page_of(&items, u64::MAX, 3).is_empty());
        assert!(page_of(&items[..6], 2, 3).is_empty());
    }

    #[test]
    fn catalog_sorts_names_and_keeps_segment_order() {
        let mut config = SimulatorConfig::demo("k");
        config.events = vec!["b".into(), "A".into(), "a".into(), "b".into()];
        config.segments = vec!["s2".into(), "s1".into()];
        config.segment_names = [("s1".to_string(), "One".to_string())].into();
        config.untracked_segments = vec![("s0".into(), "Zero".into())];
        let catalog = Catalog::new(&config);
        let body: serde_json::Value = serde_json::from_slice(&catalog.events_page(0)).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"message": "success", "events": ["A", "a", "b"]})
        );
        let body = String::from_utf8(catalog.segments_page(0, SortDirection::Desc)).unwrap();
        assert_eq!(
            body,
            r#"{"message":"success","segments":[{"id":"s0","name":"Zero","analytics_tracking_enabled":false,"tags":[]},{"id":"s1","name":"One","analytics_tracking_enabled":true,"tags":[]},{"id":"s2","name":"s2","analytics_tracking_enabled":true,"tags":[]}]}"#
        );
    }
}
