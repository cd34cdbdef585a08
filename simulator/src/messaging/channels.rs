//! The messaging channels Braze reports, and the numbers each channel's object carries.
//!
//! Field names and their order are those of Braze's reference pages
//! (`_docs/_api/endpoints/export/campaigns/get_campaign_analytics.md`, `…/get_send_analytics.md`,
//! `…/canvas/get_canvas_analytics.md`). How each number follows from the others is the
//! simulator's own model (Braze publishes none), chosen so that the orderings a reader expects
//! hold: a unique count never exceeds its total, `delivered` is what was sent less what bounced
//! or failed, push `total_opens` (direct and influenced) is at least `direct_opens`.

/// A channel key of `messages.<channel>` in Braze's answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    Email,
    IosPush,
    AndroidPush,
    KindlePush,
    WebPush,
    Webhook,
    Sms,
    WhatsApp,
    ContentCards,
    /// `trigger_in_app_message` (Braze's page once wrote `in_app_message`, a documentation error).
    InAppMessage,
}

impl Channel {
    /// Every channel, in the order of Braze's pages.
    pub const ALL: [Channel; 10] = [
        Channel::Email,
        Channel::IosPush,
        Channel::AndroidPush,
        Channel::KindlePush,
        Channel::WebPush,
        Channel::Webhook,
        Channel::Sms,
        Channel::WhatsApp,
        Channel::ContentCards,
        Channel::InAppMessage,
    ];

    /// The key Braze writes: `email`, `ios_push`, …, `trigger_in_app_message`.
    pub fn key(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::IosPush => "ios_push",
            Channel::AndroidPush => "android_push",
            Channel::KindlePush => "kindle_push",
            Channel::WebPush => "web_push",
            Channel::Webhook => "webhook",
            Channel::Sms => "sms",
            Channel::WhatsApp => "whats_app",
            Channel::ContentCards => "content_cards",
            Channel::InAppMessage => "trigger_in_app_message",
        }
    }

    /// The channel whose key is `key`.
    pub fn from_key(key: &str) -> Option<Channel> {
        Self::ALL.into_iter().find(|c| c.key() == key)
    }

    /// The four push types, which share the push fields.
    pub fn is_push(self) -> bool {
        matches!(
            self,
            Channel::IosPush | Channel::AndroidPush | Channel::KindlePush | Channel::WebPush
        )
    }

    /// The numbers of one variation's object in a campaign's `messages.<channel>[]`, in Braze's
    /// order, without the per-variation conversion fields some answers add
    /// ([`super::VARIATION_CONVERSION_FIELDS`]).
    pub fn fields(self) -> &'static [&'static str] {
        self.rules().order
    }

    /// The numbers of a Canvas step's one object in `step_stats.<id>.messages.<channel>[]`, in
    /// Braze's order: as [`Channel::fields`], except push (`sent`, `opens`, `influenced_opens`,
    /// `bounces`).
    pub fn step_fields(self) -> &'static [&'static str] {
        self.step_rules().order
    }

    /// How this channel's numbers are made, for campaigns and sends.
    pub(super) fn rules(self) -> &'static Rules {
        match self {
            Channel::Email => &EMAIL,
            c if c.is_push() => &PUSH,
            Channel::Webhook => &WEBHOOK,
            Channel::Sms => &SMS,
            Channel::WhatsApp => &WHATS_APP,
            Channel::ContentCards => &CONTENT_CARDS,
            _ => &IN_APP,
        }
    }

    /// How this channel's numbers are made in a Canvas step's `messages`: as in campaigns,
    /// except push, which Braze's Canvas page gives as `sent`, `opens`, `influenced_opens`
    /// (the total of direct and influenced opens, a legacy name) and `bounces`.
    pub(super) fn step_rules(self) -> &'static Rules {
        if self.is_push() {
            &CANVAS_PUSH
        } else {
            self.rules()
        }
    }
}

/// How one number follows from the day's audience or from another number of the same object.
#[derive(Debug, Clone, Copy)]
pub(super) enum Derive {
    /// The audience this object reaches that day.
    Audience,
    /// `of × (low + hash % spread) / 1000`, with ±10% noise per day.
    Share {
        of: &'static str,
        low: u64,
        spread: u64,
    },
    /// `of − minus`.
    Difference {
        of: &'static str,
        minus: &'static str,
    },
}

/// One number of a channel object.
#[derive(Debug, Clone, Copy)]
pub(super) struct Rule {
    pub(super) field: &'static str,
    pub(super) derive: Derive,
}

/// A channel object's numbers: `make` in the order they can be computed, `order` in Braze's.
#[derive(Debug)]
pub(super) struct Rules {
    pub(super) make: &'static [Rule],
    pub(super) order: &'static [&'static str],
}

const fn audience(field: &'static str) -> Rule {
    Rule {
        field,
        derive: Derive::Audience,
    }
}

const fn share(field: &'static str, of: &'static str, low: u64, spread: u64) -> Rule {
    Rule {
        field,
        derive: Derive::Share { of, low, spread },
    }
}

const fn difference(field: &'static str, of: &'static str, minus: &'static str) -> Rule {
    Rule {
        field,
        derive: Derive::Difference { of, minus },
    }
}

static EMAIL: Rules = Rules {
    make: &[
        audience("sent"),
        share("bounces", "sent", 10, 20),
        difference("delivered", "sent", "bounces"),
        share("opens", "delivered", 250, 200),
        share("unique_opens", "opens", 600, 200),
        share("clicks", "opens", 100, 100),
        share("unique_clicks", "clicks", 700, 200),
        share("unsubscribes", "delivered", 2, 4),
        share("reported_spam", "delivered", 0, 3),
    ],
    order: &[
        "sent",
        "opens",
        "unique_opens",
        "clicks",
        "unique_clicks",
        "unsubscribes",
        "bounces",
        "delivered",
        "reported_spam",
    ],
};

static PUSH: Rules = Rules {
    make: &[
        audience("sent"),
        share("direct_opens", "sent", 20, 60),
        share("total_opens", "direct_opens", 1_200, 1_000),
        share("bounces", "sent", 5, 20),
        share("body_clicks", "sent", 10, 40),
    ],
    order: &[
        "sent",
        "direct_opens",
        "total_opens",
        "bounces",
        "body_clicks",
    ],
};

/// What `/sends/data_series` adds to push objects (its page: "successfully delivered", "undelivered",
/// "rejected").
pub(super) static SEND_PUSH_EXTRA: Rules = Rules {
    make: &[
        difference("delivered", "sent", "bounces"),
        share("undelivered", "sent", 5, 10),
        share("delivery_failed", "sent", 2, 8),
    ],
    order: &["delivered", "undelivered", "delivery_failed"],
};

static CANVAS_PUSH: Rules = Rules {
    make: &[
        audience("sent"),
        share("opens", "sent", 20, 60),
        share("influenced_opens", "opens", 1_200, 1_000),
        share("bounces", "sent", 5, 20),
    ],
    order: &["sent", "opens", "influenced_opens", "bounces"],
};

static WEBHOOK: Rules = Rules {
    make: &[audience("sent"), share("errors", "sent", 1, 20)],
    order: &["sent", "errors"],
};

static SMS: Rules = Rules {
    make: &[
        audience("sent"),
        share("sent_to_carrier", "sent", 980, 20),
        share("rejected", "sent", 2, 10),
        share("delivery_failed", "sent_to_carrier", 5, 20),
        difference("delivered", "sent_to_carrier", "delivery_failed"),
        share("clicks", "delivered", 20, 60),
        share("opt_out", "delivered", 1, 5),
        share("help", "delivered", 0, 3),
    ],
    order: &[
        "sent",
        "sent_to_carrier",
        "delivered",
        "rejected",
        "delivery_failed",
        "clicks",
        "opt_out",
        "help",
    ],
};

static WHATS_APP: Rules = Rules {
    make: &[
        audience("sent"),
        share("failed", "sent", 5, 30),
        difference("delivered", "sent", "failed"),
        share("read", "delivered", 400, 400),
    ],
    order: &["sent", "delivered", "failed", "read"],
};

static CONTENT_CARDS: Rules = Rules {
    make: &[
        audience("sent"),
        share("total_impressions", "sent", 800, 1_200),
        share("unique_impressions", "total_impressions", 500, 300),
        share("total_clicks", "total_impressions", 20, 80),
        share("unique_clicks", "total_clicks", 600, 300),
        share("total_dismissals", "total_impressions", 50, 150),
        share("unique_dismissals", "total_dismissals", 700, 250),
    ],
    order: &[
        "sent",
        "total_clicks",
        "total_dismissals",
        "total_impressions",
        "unique_clicks",
        "unique_dismissals",
        "unique_impressions",
    ],
};

static IN_APP: Rules = Rules {
    make: &[
        audience("impressions"),
        share("clicks", "impressions", 30, 120),
        share("first_button_clicks", "clicks", 300, 300),
        share("second_button_clicks", "clicks", 100, 200),
    ],
    order: &[
        "impressions",
        "clicks",
        "first_button_clicks",
        "second_button_clicks",
    ],
};

/// A control group's own number, in any channel: the users held out.
pub(super) static CONTROL: Rules = Rules {
    make: &[audience("enrolled")],
    order: &["enrolled"],
};

#[cfg(test)]
mod tests {
    use super::*;

    /// Every rule refers to a number made before it, and `order` lists exactly what is made.
    #[test]
    fn rules_are_complete_and_in_order() {
        let mut all: Vec<&Rules> = Channel::ALL.iter().map(|c| c.rules()).collect();
        all.extend(Channel::ALL.iter().map(|c| c.step_rules()));
        all.push(&CONTROL);
        assert_eq!(SEND_PUSH_EXTRA.make.len(), SEND_PUSH_EXTRA.order.len());
        for rules in all {
            let mut made: Vec<&str> = Vec::new();
            for rule in rules.make {
                match rule.derive {
                    Derive::Audience => {}
                    Derive::Share { of, .. } => assert!(made.contains(&of), "{}", rule.field),
                    Derive::Difference { of, minus } => {
                        assert!(
                            made.contains(&of) && made.contains(&minus),
                            "{}",
                            rule.field
                        )
                    }
                }
                assert!(!made.contains(&rule.field), "{} twice", rule.field);
                made.push(rule.field);
            }
            let mut listed = rules.order.to_vec();
            listed.sort_unstable();
            made.sort_unstable();
            assert_eq!(listed, made);
        }
        // The extra push numbers of sends are made from the push object's own.
        for rule in SEND_PUSH_EXTRA.make {
            match rule.derive {
                Derive::Share { of, .. } => assert!(PUSH.order.contains(&of)),
                Derive::Difference { of, minus } => {
                    assert!(PUSH.order.contains(&of) && PUSH.order.contains(&minus))
                }
                Derive::Audience => panic!("{}", rule.field),
            }
        }
    }

    #[test]
    fn keys_round_trip() {
        for channel in Channel::ALL {
            assert_eq!(Channel::from_key(channel.key()), Some(channel));
        }
        assert_eq!(Channel::from_key("in_app_message"), None);
        assert!(Channel::WebPush.is_push() && !Channel::Email.is_push());
    }
}
