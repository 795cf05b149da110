//! OAuth scopes of xAPI: the scope table of xAPI 1.0.3 Communication 4.2 (4.2.s2), which this
//! LRS applies to OAuth 2.0 bearer tokens on both lines (IEEE 9274.1.1 leaves authorization
//! to the LRS; the same scope names are used).
//!
//! | scope | permission (4.2.s2) |
//! |---|---|
//! | `statements/write` | write any Statement |
//! | `statements/read/mine` | read Statements whose authority is what this token would stamp |
//! | `statements/read` | read any Statement |
//! | `state` | read/write state data |
//! | `define` | (re)define Activities and Actors |
//! | `profile` | read/write profile data |
//! | `all/read` | unrestricted read access |
//! | `all` | unrestricted access |

/// One xAPI scope value (Communication 4.2.s2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    StatementsWrite,
    StatementsReadMine,
    StatementsRead,
    State,
    Define,
    Profile,
    AllRead,
    All,
}

impl Scope {
    pub const EVERY: [Scope; 8] = [
        Scope::StatementsWrite,
        Scope::StatementsReadMine,
        Scope::StatementsRead,
        Scope::State,
        Scope::Define,
        Scope::Profile,
        Scope::AllRead,
        Scope::All,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::StatementsWrite => "statements/write",
            Scope::StatementsReadMine => "statements/read/mine",
            Scope::StatementsRead => "statements/read",
            Scope::State => "state",
            Scope::Define => "define",
            Scope::Profile => "profile",
            Scope::AllRead => "all/read",
            Scope::All => "all",
        }
    }

    /// The scope named `s` (case-sensitive, RFC 6749 3.3), if it is an xAPI scope.
    pub fn parse(s: &str) -> Option<Scope> {
        Scope::EVERY.into_iter().find(|x| x.as_str() == s)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// The xAPI scopes a token carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScopeSet(u8);

impl ScopeSet {
    /// The xAPI scopes in a token's space-separated `scope`; other scopes (`roster`, `openid`)
    /// are ignored. A token granted with no scope at all gets `statements/write` and
    /// `statements/read/mine` (Communication 4.2.s6.b2: "MUST assume a requested scope of
    /// statements/write and statements/read/mine if no scope is specified").
    pub fn of_token(scope: &str) -> ScopeSet {
        let mut names = scope.split(' ').filter(|s| !s.is_empty()).peekable();
        if names.peek().is_none() {
            return ScopeSet::from_iter([Scope::StatementsWrite, Scope::StatementsReadMine]);
        }
        names.filter_map(Scope::parse).collect()
    }

    pub fn contains(self, s: Scope) -> bool {
        self.0 & s.bit() != 0
    }

    fn any(self, of: &[Scope]) -> bool {
        of.iter().any(|s| self.contains(*s))
    }

    /// `define` or `all`: statements stored with this token may update the canonical
    /// Activity definitions (4.2.s2 `define`: without it the LRS "SHOULD NOT update its
    /// canonical representation of any Actors or Activities").
    pub fn may_define(self) -> bool {
        self.any(&[Scope::Define, Scope::All])
    }

    /// Whether this token may do `op` on `resource`, per 4.2.s2.
    pub fn decide(self, resource: Resource, op: Operation) -> Decision {
        use Operation::{Read, Write};
        use Scope::*;
        let (granting, needed): (&[Scope], &'static str) = match (resource, op) {
            (Resource::Statements, Write) => (&[StatementsWrite, All], "statements/write"),
            (Resource::Statements, Read) => {
                if self.any(&[StatementsRead, AllRead, All]) {
                    return Decision::Allowed;
                }
                if self.contains(StatementsReadMine) {
                    return Decision::OnlyMine;
                }
                return Decision::Denied {
                    needed: "statements/read",
                };
            }
            (Resource::State, Read) => (&[State, AllRead, All], "state"),
            (Resource::State, Write) => (&[State, All], "state"),
            (Resource::ActivityProfile | Resource::AgentProfile, Read) => {
                (&[Profile, AllRead, All], "profile")
            }
            (Resource::ActivityProfile | Resource::AgentProfile, Write) => {
                (&[Profile, All], "profile")
            }
            // The Activities and Agents resources are read-only: "unrestricted read access".
            (Resource::Activities | Resource::Agents, _) => (&[AllRead, All], "all/read"),
        };
        if self.any(granting) {
            Decision::Allowed
        } else {
            Decision::Denied { needed }
        }
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        ScopeSet(iter.into_iter().fold(0, |acc, s| acc | s.bit()))
    }
}

/// The resources of Communication 2 that need authorization (`about` does not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Statements,
    State,
    ActivityProfile,
    AgentProfile,
    Activities,
    Agents,
}

impl Resource {
    /// The resource of a path below the xAPI endpoint.
    pub fn of_path(path: &str) -> Option<Resource> {
        Some(match path {
            "statements" => Resource::Statements,
            "activities/state" => Resource::State,
            "activities/profile" => Resource::ActivityProfile,
            "agents/profile" => Resource::AgentProfile,
            "activities" => Resource::Activities,
            "agents" => Resource::Agents,
            _ => return None,
        })
    }
}

/// Reading (GET, HEAD) or writing (PUT, POST, DELETE).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Read,
    Write,
}

/// What a token may do with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// `statements/read/mine` only: the statements whose authority is this token's.
    OnlyMine,
    /// Not granted; `needed` is the narrowest scope that would grant it.
    Denied {
        needed: &'static str,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use Operation::*;

    fn set(s: &str) -> ScopeSet {
        ScopeSet::of_token(s)
    }

    #[test]
    fn comm_4_2_s2_statements_write_writes_but_does_not_read() {
        let s = set("statements/write");
        assert_eq!(s.decide(Resource::Statements, Write), Decision::Allowed);
        assert_eq!(
            s.decide(Resource::Statements, Read),
            Decision::Denied {
                needed: "statements/read"
            }
        );
    }

    #[test]
    fn comm_4_2_s2_read_mine_is_only_mine_and_read_or_all_read_widen_it() {
        assert_eq!(
            set("statements/read/mine").decide(Resource::Statements, Read),
            Decision::OnlyMine
        );
        for s in [
            "statements/read",
            "all/read",
            "all",
            "statements/read/mine all/read",
        ] {
            assert_eq!(
                set(s).decide(Resource::Statements, Read),
                Decision::Allowed,
                "{s}"
            );
        }
        assert_eq!(
            set("all/read").decide(Resource::Statements, Write),
            Decision::Denied {
                needed: "statements/write"
            }
        );
    }

    #[test]
    fn comm_4_2_s2_state_and_profile_read_write_all_read_reads_only() {
        for (r, name) in [
            (Resource::State, "state"),
            (Resource::ActivityProfile, "profile"),
            (Resource::AgentProfile, "profile"),
        ] {
            assert_eq!(set(name).decide(r, Write), Decision::Allowed);
            assert_eq!(set(name).decide(r, Read), Decision::Allowed);
            assert_eq!(set("all/read").decide(r, Read), Decision::Allowed);
            assert_eq!(
                set("all/read").decide(r, Write),
                Decision::Denied { needed: name }
            );
            assert_eq!(
                set("statements/write statements/read").decide(r, Read),
                Decision::Denied { needed: name }
            );
        }
        assert_eq!(
            set("state").decide(Resource::ActivityProfile, Read),
            Decision::Denied { needed: "profile" }
        );
    }

    #[test]
    fn comm_4_2_s2_activities_and_agents_need_unrestricted_read() {
        for r in [Resource::Activities, Resource::Agents] {
            assert_eq!(set("all/read").decide(r, Read), Decision::Allowed);
            assert_eq!(set("all").decide(r, Read), Decision::Allowed);
            assert_eq!(
                set("define statements/read").decide(r, Read),
                Decision::Denied { needed: "all/read" }
            );
        }
    }

    #[test]
    fn comm_4_2_s6_b2_no_scope_means_statements_write_and_read_mine() {
        let s = set("");
        assert_eq!(s.decide(Resource::Statements, Write), Decision::Allowed);
        assert_eq!(s.decide(Resource::Statements, Read), Decision::OnlyMine);
        assert!(!s.may_define());
        // A token with only non-xAPI scopes has no xAPI permission at all.
        let r = set("roster");
        assert_eq!(
            r.decide(Resource::Statements, Write),
            Decision::Denied {
                needed: "statements/write"
            }
        );
    }

    #[test]
    fn comm_4_2_s2_define_or_all_may_redefine_activities() {
        assert!(set("define").may_define());
        assert!(set("all").may_define());
        assert!(!set("statements/write all/read").may_define());
    }

    #[test]
    fn scope_names_are_exact() {
        for s in Scope::EVERY {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
        }
        assert_eq!(Scope::parse("Statements/Write"), None);
        assert_eq!(Scope::parse("statements"), None);
    }
}
