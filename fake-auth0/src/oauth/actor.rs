//! The `act` (actor) claim of RFC 8693 §4.1: who acts for the token's subject, nested for
//! a chain of delegations, the current actor outermost.
//!
//! Custom Token Exchange writes one level (the actor token's `sub`); Auth0's On-Behalf-Of
//! exchange nests the subject token's chain (or its client) under the calling client and
//! limits the depth. Both build the claim here.

use serde_json::{Map, Value, json};

/// An actor and, nested, the actors before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Actor {
    sub: String,
    /// The prior actor (RFC 8693 §4.1: nested `act` claims are informational).
    prior: Option<Box<Actor>>,
}

impl Actor {
    /// An actor with no prior actor.
    pub(crate) fn new(sub: impl Into<String>) -> Actor {
        Actor {
            sub: sub.into(),
            prior: None,
        }
    }

    /// `sub` acting after `prior`.
    pub(crate) fn after(sub: impl Into<String>, prior: Actor) -> Actor {
        Actor {
            sub: sub.into(),
            prior: Some(Box::new(prior)),
        }
    }

    /// The `act` claim of a verified token's claims; `None` when there is none or it is not
    /// an object with a string `sub` at every level.
    pub(crate) fn from_claims(claims: &Map<String, Value>) -> Option<Actor> {
        fn parse(value: &Value) -> Option<Actor> {
            let object = value.as_object()?;
            let sub = object.get("sub")?.as_str()?;
            let prior = match object.get("act") {
                Some(nested) => Some(Box::new(parse(nested)?)),
                None => None,
            };
            Some(Actor {
                sub: sub.to_owned(),
                prior,
            })
        }
        parse(claims.get("act")?)
    }

    /// How many actors the chain names (1 for a single `act`).
    pub(crate) fn depth(&self) -> usize {
        1 + self.prior.as_ref().map_or(0, |prior| prior.depth())
    }

    /// The claim's value.
    pub(crate) fn to_claim(&self) -> Value {
        match &self.prior {
            Some(prior) => json!({ "sub": self.sub, "act": prior.to_claim() }),
            None => json!({ "sub": self.sub }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_round_trips_through_the_claim_and_counts_its_depth() {
        let chain = Actor::after("mcp-server-client", Actor::new("demo-cli"));
        assert_eq!(chain.depth(), 2);
        let claim = chain.to_claim();
        assert_eq!(
            claim,
            json!({"sub": "mcp-server-client", "act": {"sub": "demo-cli"}})
        );
        let mut claims = Map::new();
        claims.insert("act".to_owned(), claim);
        assert_eq!(Actor::from_claims(&claims), Some(chain));
    }

    #[test]
    fn a_malformed_chain_is_no_chain() {
        let mut claims = Map::new();
        claims.insert(
            "act".to_owned(),
            json!({"sub": "a", "act": {"client": "b"}}),
        );
        assert_eq!(Actor::from_claims(&claims), None);
        assert_eq!(Actor::from_claims(&Map::new()), None);
    }
}
