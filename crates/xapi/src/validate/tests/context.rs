//! Result, context, timestamps, version, attachments, batches (Data 2.4.5–2.4.11).

use super::*;

#[test]
fn score_rules_data_2_4_5_1_xapi_00080_00083() {
    ok(
        &with(
            "/result",
            json!({"score": {"scaled": 0.6767676, "raw": 100.6767676, "min": 0, "max": 200}}),
        ),
        V1,
    );
    bad(
        &with("/result", json!({"score": {"scaled": 1.01}})),
        V1,
        "statement.result.score.scaled",
    );
    bad(
        &with("/result", json!({"score": {"scaled": -1.01}})),
        V1,
        "statement.result.score.scaled",
    );
    bad(
        &with("/result", json!({"score": {"min": 5, "max": 5}})),
        V1,
        "statement.result.score.min",
    );
    bad(
        &with(
            "/result",
            json!({"score": {"raw": 11, "min": 0, "max": 10}}),
        ),
        V1,
        "statement.result.score.raw",
    );
    bad(
        &with("/result", json!({"score": {"raw": -1, "min": 0}})),
        V1,
        "statement.result.score.raw",
    );
    bad(
        &with("/result", json!({"score": "1"})),
        V1,
        "statement.result.score",
    );
}

#[test]
fn result_duration_is_iso8601_data_4_6_xapi_00124() {
    ok(&with("/result", json!({"duration": "PT4H35M59.14S"})), V1);
    ok(&with("/result", json!({"duration": "P4W"})), V2);
    bad(
        &with("/result", json!({"duration": "PA1H0M0S"})),
        V1,
        "statement.result.duration",
    );
    bad(
        &with("/result", json!({"duration": "P4W1D"})),
        V2,
        "statement.result.duration",
    );
    bad(
        &with("/result", json!({"duration": 12345})),
        V1,
        "statement.result.duration",
    );
}

#[test]
fn context_registration_is_uuid_data_2_4_6_xapi_00087() {
    bad(
        &with("/context", json!({"registration": "not-uuid"})),
        V1,
        "statement.context.registration",
    );
}

#[test]
fn context_instructor_and_team_data_2_4_6_xapi_00087_00088() {
    ok(
        &with(
            "/context",
            json!({"instructor": {"mbox": "mailto:t@example.jp"},
        "team": {"objectType": "Group", "member": [{"mbox": "mailto:a@b.c"}]}}),
        ),
        V1,
    );
    bad(
        &with("/context", json!({"instructor": "agent"})),
        V1,
        "statement.context.instructor",
    );
    bad(
        &with("/context", json!({"team": {"mbox": "mailto:a@b.c"}})),
        V1,
        "statement.context.team",
    );
}

#[test]
fn context_activities_keys_and_values_data_2_4_6_2_xapi_00093_00094() {
    ok(
        &with(
            "/context",
            json!({"contextActivities": {"parent": {"id": "http://x.y/p"}, "grouping": [{"id": "http://x.y/g"}],
        "category": [], "other": [{"id": "http://x.y/o", "objectType": "Activity"}]}}),
        ),
        V1,
    );
    bad(
        &with(
            "/context",
            json!({"contextActivities": {"Parent": [{"id": "http://x.y/p"}]}}),
        ),
        V1,
        "statement.context.contextActivities.Parent",
    );
    bad(
        &with(
            "/context",
            json!({"contextActivities": {"parent": "activity"}}),
        ),
        V1,
        "statement.context.contextActivities.parent",
    );
    bad(
        &with(
            "/context",
            json!({"contextActivities": {"parent": [{"id": "nope"}]}}),
        ),
        V1,
        "statement.context.contextActivities.parent[0].id",
    );
    bad(
        &with("/context", json!({"contextActivities": "x"})),
        V1,
        "statement.context.contextActivities",
    );
}

#[test]
fn context_language_and_statement_data_2_4_6_xapi_00091_00092() {
    ok(
        &with(
            "/context",
            json!({"language": "ja-JP", "statement": {"objectType": "StatementRef", "id": "aa97b177-9383-4934-8543-0f91a7a02836"}}),
        ),
        V1,
    );
    bad(
        &with("/context", json!({"language": "a12345"})),
        V1,
        "statement.context.language",
    );
    bad(
        &with(
            "/context",
            json!({"statement": {"id": "aa97b177-9383-4934-8543-0f91a7a02836"}}),
        ),
        V1,
        "statement.context.statement.objectType",
    );
}

#[test]
fn context_agents_and_groups_are_2_0_only_ieee_9274_1_1_4_2_2_5() {
    let ca = json!({"contextAgents": [{"objectType": "contextAgent", "agent": {"mbox": "mailto:a@b.c"},
        "relevantTypes": ["http://x.y/t"]}],
        "contextGroups": [{"objectType": "contextGroup", "group": {"objectType": "Group", "mbox": "mailto:g@b.c"}}]});
    ok(&with("/context", ca.clone()), V2);
    bad(&with("/context", ca), V1, "statement.context.contextAgents");
}

#[test]
fn context_agent_rules_ieee_9274_1_1_4_2_2_5() {
    let cases = [
        (
            json!({"objectType": "Agent", "agent": {"mbox": "mailto:a@b.c"}}),
            "statement.context.contextAgents[0].objectType",
        ),
        (
            json!({"objectType": "contextAgent", "agent": {"mbox": "bad"}}),
            "statement.context.contextAgents[0].agent.mbox",
        ),
        (
            json!({"objectType": "contextAgent"}),
            "statement.context.contextAgents[0].agent",
        ),
        (
            json!({"objectType": "contextAgent", "agent": {"mbox": "mailto:a@b.c"}, "relevantTypes": []}),
            "statement.context.contextAgents[0].relevantTypes",
        ),
        (
            json!({"objectType": "contextAgent", "agent": {"mbox": "mailto:a@b.c"}, "relevantTypes": ["abc"]}),
            "statement.context.contextAgents[0].relevantTypes[0]",
        ),
    ];
    for (item, path) in cases {
        bad(
            &with("/context", json!({"contextAgents": [item]})),
            V2,
            path,
        );
    }
    bad(
        &with(
            "/context",
            json!({"contextGroups": [{"objectType": "contextGroup", "group": {"mbox": "mailto:a@b.c"}}]}),
        ),
        V2,
        "statement.context.contextGroups[0].group",
    );
    bad(
        &sub(
            json!({"context": {"contextAgents": [{"objectType": "x", "agent": {"mbox": "mailto:a@b.c"}}]}}),
        ),
        V2,
        "statement.object.context.contextAgents[0].objectType",
    );
}

#[test]
fn timestamp_and_stored_are_iso8601_data_2_4_7_2_4_8_xapi_00123() {
    for t in [
        "01/011/2015",
        "should fail",
        "2008-09-15T15:53:00.601-00",
        "2008-09-15T15:53:00.601-0000",
        "2008-09-15T15:53:00.601-00:00",
    ] {
        bad(&with("/timestamp", json!(t)), V1, "statement.timestamp");
        bad(&with("/stored", json!(t)), V2, "statement.stored");
    }
    ok(
        &with("/timestamp", json!("2008-09-15T15:53:00.601+00:00")),
        V2,
    );
}

#[test]
fn version_property_data_2_4_10_xapi_00101() {
    ok(&with("/version", json!("1.0")), V1);
    ok(&with("/version", json!("1.0.9")), V1);
    ok(&with("/version", json!("2.0.0")), V2);
    bad(&with("/version", json!("2.0.0")), V1, "statement.version");
    for v in ["should fail", "0.9.9", "1.1.0"] {
        bad(&with("/version", json!(v)), V2, "statement.version");
    }
}

#[test]
fn attachment_metadata_data_2_4_11_xapi_00102_00107() {
    let att = json!({"usageType": "http://adlnet.gov/expapi/attachments/signature", "display": {"en-US": "A"},
        "description": {"en-US": "d"}, "contentType": "application/octet-stream", "length": 32,
        "sha2": "672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634", "fileUrl": "http://x.y/f"});
    ok(&with("/attachments", json!([att.clone()])), V1);
    let cases = [
        ("usageType", json!("not iri")),
        ("display", json!({"a12345": "x"})),
        ("description", json!("x")),
        ("contentType", json!(123)),
        ("contentType", json!("plain")),
        ("length", json!("32")),
        ("length", json!(1.5)),
        ("length", json!(-1)),
        ("sha2", json!(123)),
        ("sha2", json!("xyz")),
        ("fileUrl", json!("no scheme")),
    ];
    for (key, value) in cases {
        let mut a = att.clone();
        a[key] = value;
        bad(
            &with("/attachments", json!([a])),
            V1,
            &format!("statement.attachments[0].{key}"),
        );
    }
    for key in ["usageType", "display", "contentType", "length", "sha2"] {
        let mut a = att.clone();
        a.as_object_mut().map(|o| o.remove(key));
        bad(
            &with("/attachments", json!([a])),
            V1,
            &format!("statement.attachments[0].{key}"),
        );
    }
    bad(&with("/attachments", att), V1, "statement.attachments");
}

#[test]
fn batch_paths_name_the_statement_and_ids_are_unique_comm_2_1_2() {
    let batch = json!([base(), with("/actor/mbox", json!("bad"))]);
    let e = validate_statements(&batch, V1).unwrap_err();
    assert_eq!(
        e.to_string().split(':').next(),
        Some("statements[1].actor.mbox")
    );
    assert!(validate_statements(&json!([base(), base()]), V1).is_err());
    assert!(validate_statements(&json!([]), V1).is_ok());
}

#[test]
fn error_message_names_path_and_rule() {
    let e = validate_statement(&with("/actor/mbox", json!("ann@example.jp")), V1).unwrap_err();
    assert_eq!(
        e.to_string(),
        "statement.actor.mbox: must be a \"mailto:\" IRI with an e-mail address"
    );
    assert_eq!(e.status(), 400);
}
