//! Agents, Groups, IFIs, accounts and authority (Data 2.4.2, 2.4.9).

use super::*;

#[test]
fn agent_has_exactly_one_ifi_data_2_4_2_1_s2_b1_b2() {
    bad(
        &with("/actor", json!({"objectType": "Agent", "name": "x"})),
        V1,
        "statement.actor",
    );
    bad(
        &with(
            "/actor",
            json!({"mbox": "mailto:a@b.c", "openid": "http://openid.example.org/1"}),
        ),
        V1,
        "statement.actor",
    );
    bad(
        &with(
            "/actor",
            json!({"mbox_sha1sum": "cd9b00a5611f94eaa7b1661edab976068e364975",
        "account": {"homePage": "http://www.example.com", "name": "x"}}),
        ),
        V1,
        "statement.actor",
    );
    ok(
        &with(
            "/actor",
            json!({"openid": "http://openid.example.org/12345"}),
        ),
        V1,
    );
    ok(
        &with(
            "/actor",
            json!({"mbox_sha1sum": "cd9b00a5611f94eaa7b1661edab976068e364975"}),
        ),
        V1,
    );
}

#[test]
fn mbox_is_a_mailto_iri_data_2_4_2_3_xapi_00038() {
    bad(
        &with("/actor/mbox", json!("mailto:should.fail.com")),
        V1,
        "statement.actor.mbox",
    );
    bad(
        &with("/actor/mbox", json!("http://should.fail.com")),
        V1,
        "statement.actor.mbox",
    );
    bad(
        &with("/actor/mbox", json!("ann@example.jp")),
        V1,
        "statement.actor.mbox",
    );
}

#[test]
fn mbox_sha1sum_and_openid_formats_data_2_4_2_3_xapi_00039_00040() {
    bad(
        &with("/actor", json!({"mbox_sha1sum": 12345})),
        V1,
        "statement.actor.mbox_sha1sum",
    );
    bad(
        &with("/actor", json!({"mbox_sha1sum": "not hex"})),
        V1,
        "statement.actor.mbox_sha1sum",
    );
    bad(
        &with("/actor", json!({"openid": "open.id.com/testUser"})),
        V1,
        "statement.actor.openid",
    );
}

#[test]
fn account_needs_homepage_irl_and_name_data_2_4_2_4() {
    bad(
        &with(
            "/actor",
            json!({"account": {"homePage": "homePage.com/testUser", "name": "123456"}}),
        ),
        V1,
        "statement.actor.account.homePage",
    );
    bad(
        &with(
            "/actor",
            json!({"account": {"homePage": "ab=c://should.fail.com", "name": "x"}}),
        ),
        V1,
        "statement.actor.account.homePage",
    );
    bad(
        &with("/actor", json!({"account": {"name": "x"}})),
        V1,
        "statement.actor.account.homePage",
    );
    bad(
        &with("/actor", json!({"account": {"homePage": "http://x.y"}})),
        V1,
        "statement.actor.account.name",
    );
    bad(
        &with(
            "/actor",
            json!({"account": {"homePage": "http://x.y", "name": {"key": "invalid"}}}),
        ),
        V1,
        "statement.actor.account.name",
    );
}

#[test]
fn anonymous_group_needs_members_data_2_4_2_2_xapi_00035() {
    bad(
        &with("/actor", json!({"objectType": "Group", "name": "g"})),
        V1,
        "statement.actor.member",
    );
    ok(
        &with(
            "/actor",
            json!({"objectType": "Group", "member": [{"mbox": "mailto:a@b.c"}]}),
        ),
        V1,
    );
}

#[test]
fn group_members_are_agents_data_2_4_2_2_xapi_00036() {
    bad(
        &with(
            "/actor",
            json!({"objectType": "Group", "member": [{"objectType": "Group", "member": [{"mbox": "mailto:a@b.c"}]}]}),
        ),
        V1,
        "statement.actor.member[0]",
    );
    bad(
        &with(
            "/actor",
            json!({"objectType": "Group", "member": [{"name": "no ifi"}]}),
        ),
        V1,
        "statement.actor.member[0]",
    );
    bad(
        &with(
            "/actor",
            json!({"objectType": "Group", "member": {"mbox": "mailto:a@b.c"}}),
        ),
        V1,
        "statement.actor.member",
    );
}

#[test]
fn identified_group_has_exactly_one_ifi_data_2_4_2_2_s5_xapi_00037() {
    ok(
        &with(
            "/actor",
            json!({"objectType": "Group", "mbox": "mailto:g@b.c"}),
        ),
        V1,
    );
    bad(
        &with(
            "/actor",
            json!({"objectType": "Group", "mbox": "mailto:g@b.c", "openid": "http://o.x/1"}),
        ),
        V1,
        "statement.actor",
    );
}

#[test]
fn authority_is_agent_or_two_member_anonymous_group_data_2_4_9_xapi_00098() {
    ok(
        &with(
            "/authority",
            json!({"objectType": "Agent", "mbox": "mailto:lrs@k.example"}),
        ),
        V1,
    );
    ok(
        &with(
            "/authority",
            json!({"objectType": "Group", "member": [
        {"account": {"homePage": "http://k.example", "name": "consumer"}}, {"mbox": "mailto:user@k.example"}]}),
        ),
        V1,
    );
    bad(
        &with(
            "/authority",
            json!({"objectType": "Group", "member": [{"mbox": "mailto:a@b.c"}]}),
        ),
        V1,
        "statement.authority",
    );
    bad(
        &with(
            "/authority",
            json!({"objectType": "Group", "member": [
        {"mbox": "mailto:a@b.c"}, {"mbox": "mailto:b@b.c"}, {"mbox": "mailto:c@b.c"}]}),
        ),
        V1,
        "statement.authority",
    );
    bad(
        &with(
            "/authority",
            json!({"objectType": "Group", "mbox": "mailto:g@b.c", "member": [
        {"mbox": "mailto:a@b.c"}, {"mbox": "mailto:b@b.c"}]}),
        ),
        V1,
        "statement.authority",
    );
    bad(
        &with(
            "/authority",
            json!({"objectType": 123, "mbox": "mailto:lrs@k.example"}),
        ),
        V1,
        "statement.authority.objectType",
    );
}
