//! The paths served, each with its permission, its field and its rate-limit pool.
//!
//! Permission names are Braze's (`_docs/_api/basics.md`): the path without its leading slash,
//! with dots for slashes. Each workspace has three pools ([`Pool`]): `/events/list` and
//! `/purchases/product_list` share Braze's separate budget of 1,000 requests an hour,
//! `/campaigns/data_series` has its own of 50,000 a minute, and every other path (the Canvas and
//! send series, the campaign and Canvas lists and details among them) is on the shared hourly
//! budget.
//!
//! Braze's pages for `/purchases/quantity_series` and `/purchases/revenue_series` include the
//! product list's rate-limit text (`rate_limits.md endpoint='purchases product list'`), which
//! may be a copy of the product list page's or may mean they share the 1,000-an-hour budget.
//! This simulator keeps them on the default budget, as the project's notes on Braze do;
//! [`Endpoint::pool`] is the one place to change that.

use crate::counts::Kpi;

/// One path the simulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Endpoint {
    Sessions,
    Kpi(Kpi),
    Events,
    PurchaseQuantity,
    Revenue,
    SegmentSize,
    EventsList,
    ProductList,
    SegmentsList,
    CampaignSeries,
    CanvasSeries,
    SendSeries,
    CampaignsList,
    CanvasList,
    CampaignDetails,
    CanvasDetails,
}

/// A workspace's separate request budgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Pool {
    /// 250,000 an hour: every path not below.
    Shared,
    /// 1,000 an hour: `/events/list` and `/purchases/product_list`.
    Lists,
    /// 50,000 a minute: `/campaigns/data_series`.
    CampaignAnalytics,
}

impl Pool {
    pub(crate) const ALL: [Pool; 3] = [Pool::Shared, Pool::Lists, Pool::CampaignAnalytics];

    /// The position in [`Pool::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl Endpoint {
    /// Every endpoint, in the order of [`Endpoint::index`].
    pub(crate) const ALL: [Endpoint; 19] = [
        Endpoint::Sessions,
        Endpoint::Kpi(Kpi::Dau),
        Endpoint::Kpi(Kpi::Mau),
        Endpoint::Kpi(Kpi::NewUsers),
        Endpoint::Kpi(Kpi::Uninstalls),
        Endpoint::Events,
        Endpoint::PurchaseQuantity,
        Endpoint::Revenue,
        Endpoint::SegmentSize,
        Endpoint::EventsList,
        Endpoint::ProductList,
        Endpoint::SegmentsList,
        Endpoint::CampaignSeries,
        Endpoint::CanvasSeries,
        Endpoint::SendSeries,
        Endpoint::CampaignsList,
        Endpoint::CanvasList,
        Endpoint::CampaignDetails,
        Endpoint::CanvasDetails,
    ];

    pub(crate) fn from_path(path: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.path() == path)
    }

    /// The position in [`Endpoint::ALL`].
    pub(crate) fn index(self) -> usize {
        Self::ALL
            .iter()
            .position(|e| *e == self)
            .expect("every endpoint is in ALL")
    }

    pub(crate) fn path(self) -> &'static str {
        match self {
            Endpoint::Sessions => "/sessions/data_series",
            Endpoint::Kpi(Kpi::Dau) => "/kpi/dau/data_series",
            Endpoint::Kpi(Kpi::Mau) => "/kpi/mau/data_series",
            Endpoint::Kpi(Kpi::NewUsers) => "/kpi/new_users/data_series",
            Endpoint::Kpi(Kpi::Uninstalls) => "/kpi/uninstalls/data_series",
            Endpoint::Events => "/events/data_series",
            Endpoint::PurchaseQuantity => "/purchases/quantity_series",
            Endpoint::Revenue => "/purchases/revenue_series",
            Endpoint::SegmentSize => "/segments/data_series",
            Endpoint::EventsList => "/events/list",
            Endpoint::ProductList => "/purchases/product_list",
            Endpoint::SegmentsList => "/segments/list",
            Endpoint::CampaignSeries => "/campaigns/data_series",
            Endpoint::CanvasSeries => "/canvas/data_series",
            Endpoint::SendSeries => "/sends/data_series",
            Endpoint::CampaignsList => "/campaigns/list",
            Endpoint::CanvasList => "/canvas/list",
            Endpoint::CampaignDetails => "/campaigns/details",
            Endpoint::CanvasDetails => "/canvas/details",
        }
    }

    /// The REST API key permission the endpoint requires.
    pub(crate) fn permission(self) -> &'static str {
        match self {
            Endpoint::Sessions => "sessions.data_series",
            Endpoint::Kpi(Kpi::Dau) => "kpi.dau.data_series",
            Endpoint::Kpi(Kpi::Mau) => "kpi.mau.data_series",
            Endpoint::Kpi(Kpi::NewUsers) => "kpi.new_users.data_series",
            Endpoint::Kpi(Kpi::Uninstalls) => "kpi.uninstalls.data_series",
            Endpoint::Events => "events.data_series",
            Endpoint::PurchaseQuantity => "purchases.quantity_series",
            Endpoint::Revenue => "purchases.revenue_series",
            Endpoint::SegmentSize => "segments.data_series",
            Endpoint::EventsList => "events.list",
            Endpoint::ProductList => "purchases.product_list",
            Endpoint::SegmentsList => "segments.list",
            Endpoint::CampaignSeries => "campaigns.data_series",
            Endpoint::CanvasSeries => "canvas.data_series",
            Endpoint::SendSeries => "sends.data_series",
            Endpoint::CampaignsList => "campaigns.list",
            Endpoint::CanvasList => "canvas.list",
            Endpoint::CampaignDetails => "campaigns.details",
            Endpoint::CanvasDetails => "canvas.details",
        }
    }

    /// The name of the value in each `data[]` point; `None` for the lists and the messaging
    /// endpoints.
    pub(crate) fn field(self) -> Option<&'static str> {
        Some(match self {
            Endpoint::Sessions => "sessions",
            Endpoint::Kpi(Kpi::Dau) => "dau",
            Endpoint::Kpi(Kpi::Mau) => "mau",
            Endpoint::Kpi(Kpi::NewUsers) => "new_users",
            Endpoint::Kpi(Kpi::Uninstalls) => "uninstalls",
            Endpoint::Events => "count",
            Endpoint::PurchaseQuantity => "purchase_quantity",
            Endpoint::Revenue => "revenue",
            Endpoint::SegmentSize => "size",
            _ => return None,
        })
    }

    /// The name of the list in a list's body; `None` for the data series and details.
    pub(crate) fn list_key(self) -> Option<&'static str> {
        match self {
            Endpoint::EventsList => Some("events"),
            Endpoint::ProductList => Some("products"),
            Endpoint::SegmentsList => Some("segments"),
            Endpoint::CampaignsList => Some("campaigns"),
            Endpoint::CanvasList => Some("canvases"),
            _ => None,
        }
    }

    /// A messaging endpoint: campaigns, Canvases, sends, their lists and details.
    pub(crate) fn messaging(self) -> bool {
        matches!(
            self,
            Endpoint::CampaignSeries
                | Endpoint::CanvasSeries
                | Endpoint::SendSeries
                | Endpoint::CampaignsList
                | Endpoint::CanvasList
                | Endpoint::CampaignDetails
                | Endpoint::CanvasDetails
        )
    }

    /// The budget it is on.
    pub(crate) fn pool(self) -> Pool {
        match self {
            Endpoint::EventsList | Endpoint::ProductList => Pool::Lists,
            Endpoint::CampaignSeries => Pool::CampaignAnalytics,
            _ => Pool::Shared,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_permissions_and_indices_agree() {
        for (i, endpoint) in Endpoint::ALL.into_iter().enumerate() {
            assert_eq!(endpoint.index(), i);
            assert_eq!(Endpoint::from_path(endpoint.path()), Some(endpoint));
            let from_path = endpoint.path()[1..].replace('/', ".");
            assert_eq!(endpoint.permission(), from_path);
            if endpoint.messaging() {
                assert_eq!(endpoint.field(), None);
            } else {
                assert!(endpoint.field().is_some() != endpoint.list_key().is_some());
            }
        }
        for (i, pool) in Pool::ALL.into_iter().enumerate() {
            assert_eq!(pool.index(), i);
        }
        assert_eq!(Endpoint::from_path("/sessions/data_series/"), None);
    }
}
