//! Statement shape, verbs, objects, activities, interactions, SubStatements (Data 2.2, 2.4.1, 2.4.3, 2.4.4).

use super::*;

#[test]
fn valid_statement_passes_both_versions() {
    ok(&base(), V1);
    ok(&base(), V2);
}

#[test]
fn actor_verb_object_are_required_data_2_2_s2_b3() {
    bad(&without("actor"), V1, "statement.actor");
    bad(&without("verb"), V1, "statement.verb");
    bad(&without("object"), V1, "statement.object");
}

#[test]
fn null_values_are_rejected_except_in_extensions_data_2_2_s4_b1_b1() {
    bad(
        &with("/actor/name", Value::Null),
        V1,
        "statement.actor.name",
    );
    bad(&with("/result", Value::Null), V1, "statement.result");
    ok(
        &with(
            "/result",
            json!({"extensions": {"http://example.com/null": null}}),
        ),
        V1,
    );
}

#[test]
fn unknown_and_miscased_keys_are_rejected_data_2_2_s4_b1_b5_b7() {
    bad(&with("/dummy", json!("dummy")), V1, "statement.dummy");
    let mut s = without("actor");
    s["Actor"] = json!({"mbox": "mailto:a@b.c"});
    bad(&s, V1, "statement.Actor");
    bad(
        &with("/verb/Display", json!({"en": "x"})),
        V1,
        "statement.verb.Display",
    );
}

#[test]
fn enumerated_values_are_case_sensitive_data_2_2_s4_b1_b6() {
    bad(
        &with("/actor/objectType", json!("agent")),
        V1,
        "statement.actor.objectType",
    );
    bad(
        &with("/object/objectType", json!("activity")),
        V1,
        "statement.object.objectType",
    );
    bad(
        &with("/object/definition/interactionType", json!("Choice")),
        V1,
        "statement.object.definition.interactionType",
    );
}

#[test]
fn wrong_types_are_rejected_data_2_2_s4_b1_b2_b3() {
    bad(
        &with("/actor/objectType", json!(123)),
        V1,
        "statement.actor.objectType",
    );
    bad(
        &with("/actor/name", json!({"key": "value"})),
        V1,
        "statement.actor.name",
    );
    bad(
        &with("/result", json!({"success": "true"})),
        V1,
        "statement.result.success",
    );
    bad(
        &with("/result", json!({"score": {"raw": "1"}})),
        V1,
        "statement.result.score.raw",
    );
    bad(
        &with("/result", json!("should fail")),
        V1,
        "statement.result",
    );
}

#[test]
fn statement_id_is_a_uuid_data_2_4_1() {
    bad(
        &with("/id", json!("MA97B177-9383-4934-8543-0F91A7A02836")),
        V1,
        "statement.id",
    );
    bad(
        &with("/id", json!("AA97B177-9383-4934-8543-0F91A7A028368")),
        V1,
        "statement.id",
    );
    bad(&with("/id", json!("")), V1, "statement.id");
    ok(
        &with("/id", json!("AA97B177-9383-4934-8543-0F91A7A02836")),
        V1,
    );
}

#[test]
fn verb_id_is_an_iri_and_display_a_language_map_data_2_4_3() {
    bad(
        &with("/verb/id", json!("adlnet.gov/expapi/verbs/attended")),
        V1,
        "statement.verb.id",
    );
    bad(
        &with("/verb", json!({"display": {"en": "x"}})),
        V1,
        "statement.verb.id",
    );
    bad(
        &with("/verb/display", json!({"a12345": "attended"})),
        V1,
        "statement.verb.display.a12345",
    );
    bad(
        &with("/verb/display", json!("a12345 attended")),
        V1,
        "statement.verb.display",
    );
    bad(
        &with("/verb/display", json!({"en": 1})),
        V1,
        "statement.verb.display.en",
    );
}

#[test]
fn object_type_vocabulary_data_2_4_4_xapi_00046() {
    bad(
        &with("/object/objectType", json!("Person")),
        V1,
        "statement.object.objectType",
    );
}

#[test]
fn activity_id_is_required_iri_data_2_4_4_1_xapi_00047() {
    bad(
        &with("/object", json!({"objectType": "Activity"})),
        V1,
        "statement.object.id",
    );
    bad(
        &with("/object/id", json!("example.jp/a")),
        V1,
        "statement.object.id",
    );
}

#[test]
fn agent_object_needs_object_type_data_2_4_4_2() {
    // Without objectType the object is an Activity, and "mbox" is not an Activity key.
    bad(
        &with("/object", json!({"mbox": "mailto:a@b.c"})),
        V1,
        "statement.object",
    );
    ok(
        &with(
            "/object",
            json!({"objectType": "Agent", "mbox": "mailto:a@b.c"}),
        ),
        V1,
    );
    ok(
        &with(
            "/object",
            json!({"objectType": "Group", "member": [{"mbox": "mailto:a@b.c"}]}),
        ),
        V1,
    );
}

#[test]
fn activity_definition_types_data_2_4_4_1_xapi_00056_00061() {
    bad(
        &with("/object/definition", json!("definition")),
        V1,
        "statement.object.definition",
    );
    bad(
        &with("/object/definition/name", json!({"a12345678": "x"})),
        V1,
        "statement.object.definition.name",
    );
    bad(
        &with("/object/definition/description", json!("text")),
        V1,
        "statement.object.definition.description",
    );
    bad(
        &with("/object/definition/type", json!("meeting")),
        V1,
        "statement.object.definition.type",
    );
    bad(
        &with(
            "/object/definition/moreInfo",
            json!("virtualmeeting/345256"),
        ),
        V1,
        "statement.object.definition.moreInfo",
    );
    bad(
        &with(
            "/object/definition/extensions",
            json!({"should fail": true}),
        ),
        V1,
        "statement.object.definition.extensions",
    );
}

#[test]
fn interaction_properties_need_interaction_type_data_2_4_4_1() {
    bad(
        &with("/object/definition/correctResponsesPattern", json!(["a"])),
        V1,
        "statement.object.definition.correctResponsesPattern",
    );
    bad(
        &with("/object/definition/choices", json!([{"id": "a"}])),
        V1,
        "statement.object.definition.choices",
    );
}

#[test]
fn interaction_components_match_interaction_type_data_2_4_4_1() {
    let mut s = base();
    s["object"]["definition"] = json!({"interactionType": "choice", "correctResponsesPattern": ["a[,]b"],
        "choices": [{"id": "a", "description": {"en": "A"}}, {"id": "b"}]});
    ok(&s, V1);
    s["object"]["definition"]["scale"] = json!([{"id": "x"}]);
    bad(&s, V1, "statement.object.definition.scale");
    let mut s = base();
    s["object"]["definition"] = json!({"interactionType": "matching",
        "source": [{"id": "1"}], "target": [{"id": "a"}]});
    ok(&s, V1);
    s["object"]["definition"]["interactionType"] = json!("true-false");
    bad(&s, V1, "statement.object.definition.source");
}

#[test]
fn interaction_component_ids_are_distinct_data_2_4_4_1() {
    let s = with(
        "/object/definition",
        json!({"interactionType": "likert",
        "scale": [{"id": "1"}, {"id": "1"}]}),
    );
    bad(&s, V1, "statement.object.definition.scale[1].id");
    let s = with(
        "/object/definition",
        json!({"interactionType": "choice", "correctResponsesPattern": [1]}),
    );
    bad(
        &s,
        V1,
        "statement.object.definition.correctResponsesPattern[0]",
    );
}

#[test]
fn statement_ref_needs_uuid_id_data_2_4_4_3_xapi_00072() {
    ok(
        &with(
            "/object",
            json!({"objectType": "StatementRef", "id": "aa97b177-9383-4934-8543-0f91a7a02836"}),
        ),
        V1,
    );
    bad(
        &with("/object", json!({"objectType": "StatementRef"})),
        V1,
        "statement.object.id",
    );
    bad(
        &with(
            "/object",
            json!({"objectType": "StatementRef", "id": "not-a-uuid"}),
        ),
        V1,
        "statement.object.id",
    );
    bad(
        &with(
            "/object",
            json!({"objectType": "StatementRef", "id": "aa97b177-9383-4934-8543-0f91a7a02836", "definition": {}}),
        ),
        V1,
        "statement.object.definition",
    );
}

#[test]
fn substatement_restrictions_data_2_4_4_3_s8_xapi_00067_00071() {
    ok(&sub(json!({})), V1);
    for key in ["id", "stored", "version", "authority"] {
        bad(
            &sub(json!({ key: "x" })),
            V1,
            &format!("statement.object.{key}"),
        );
    }
    let nested = sub(
        json!({"object": {"objectType": "SubStatement", "actor": {"mbox": "mailto:a@b.c"},
        "verb": {"id": "http://x.y/v"}, "object": {"id": "http://x.y/o"}}}),
    );
    bad(&nested, V1, "statement.object.object.objectType");
    bad(
        &sub(json!({"actor": {"mbox": "bad"}})),
        V1,
        "statement.object.actor.mbox",
    );
    bad(
        &sub(json!({"timestamp": "01/011/2015"})),
        V1,
        "statement.object.timestamp",
    );
}

#[test]
fn voiding_statement_object_is_statement_ref_data_2_3_2_xapi_00017() {
    let s = with("/verb", json!({"id": VOIDED_VERB}));
    bad(&s, V1, "statement.object.objectType");
    let mut s = s;
    s["object"] =
        json!({"objectType": "StatementRef", "id": "bb97b177-9383-4934-8543-0f91a7a02836"});
    ok(&s, V1);
}

#[test]
fn result_extensions_are_iri_keyed_objects_data_4_1_xapi_00118_00119() {
    ok(&with("/result", json!({"extensions": {}})), V1);
    ok(
        &with(
            "/result",
            json!({"extensions": {"http://example.com/ex": ""}}),
        ),
        V1,
    );
    ok(
        &with(
            "/result",
            json!({"extensions": {"http://example.com/ex": {}}}),
        ),
        V1,
    );
    bad(
        &with("/result", json!({"extensions": {"should fail": true}})),
        V1,
        "statement.result.extensions",
    );
    bad(
        &with("/result", json!({"extensions": "x"})),
        V1,
        "statement.result.extensions",
    );
}

#[test]
fn revision_and_platform_only_with_activity_object_data_2_4_6_s4_xapi_00084_00085() {
    ok(
        &with(
            "/context",
            json!({"revision": "1", "platform": "kakehashi"}),
        ),
        V1,
    );
    for key in ["revision", "platform"] {
        let mut s = with(
            "/object",
            json!({"objectType": "Agent", "mbox": "mailto:a@b.c"}),
        );
        s["context"] = json!({ key: "x" });
        bad(&s, V1, &format!("statement.context.{key}"));
        let mut s = with(
            "/object",
            json!({"objectType": "StatementRef", "id": "aa97b177-9383-4934-8543-0f91a7a02836"}),
        );
        s["context"] = json!({ key: "x" });
        bad(&s, V1, &format!("statement.context.{key}"));
    }
    ok(
        &with("/object", json!({"id": "http://x.y/no-object-type"})),
        V1,
    );
}
