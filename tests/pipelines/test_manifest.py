"""Seldon Pipeline manifests read and checked in Seldon's order, each error naming the field
and the reference."""

from __future__ import annotations

from typing import Any

import pytest

from app.pipelines.manifest import pipeline_spec
from app.pipelines.spec import INPUTS, OUTPUTS, Join, PipelineError, PipelineInput, Reference


def _manifest(spec: dict[str, Any], name: str = "p", **top: Any) -> dict[str, Any]:
    return {
        "apiVersion": "mlops.seldon.io/v1alpha1",
        "kind": "Pipeline",
        "metadata": {"name": name},
        "spec": spec,
        **top,
    }


def test_references_are_normalised_as_seldon_does() -> None:
    spec = pipeline_spec(
        _manifest(
            {
                "steps": [
                    {"name": "a"},
                    {
                        "name": "b",
                        "inputs": ["a", "p", "a.outputs.y", "p.inputs.x", "a.inputs"],
                        "inputsJoinType": "outer",
                        "triggers": ["a.outputs.go"],
                        "joinWindowMs": 500,
                    },
                ],
                "output": {"steps": ["b"], "stepsJoin": "any", "tensorMap": {"b.outputs.z": "Z"}},
                "allowCycles": True,
                "maxStepRevisits": 3,
            }
        ),
        "p",
    )
    a, b = spec.steps.values()
    assert a.inputs == (Reference("p", INPUTS),)  # no inputs: the pipeline's
    assert b.inputs == (
        Reference("a", OUTPUTS),
        Reference("p", INPUTS),
        Reference("a", OUTPUTS, "y"),
        Reference("p", INPUTS, "x"),
        Reference("a", INPUTS),
    )
    assert (b.inputs_join, b.triggers, b.join_window_ms) == (
        Join.OUTER,
        (Reference("a", OUTPUTS, "go"),),
        500,
    )
    assert (spec.output.steps, spec.output.steps_join) == ((Reference("b", OUTPUTS),), Join.ANY)
    assert spec.output.tensor_map == {"b.outputs.z": "Z"}
    assert (spec.allow_cycles, spec.max_step_revisits) == (True, 3)
    assert str(b.inputs[2]) == "a.outputs.y"


def test_a_single_step_answers_without_an_output_section() -> None:
    spec = pipeline_spec(_manifest({"steps": [{"name": "a"}]}), "p")
    assert spec.output.steps == (Reference("a", OUTPUTS),)


def test_kafka_tuning_fields_are_accepted_and_change_nothing() -> None:
    """`batch` and `dataflow` tune Seldon's Kafka streams; in process there are none."""
    tuned = {
        "steps": [{"name": "a", "batch": {"size": 4, "windowMs": 10}}],
        "dataflow": {"cleanTopicsOnDelete": True},
    }
    plain = {"steps": [{"name": "a"}]}
    assert pipeline_spec(_manifest(tuned), "p") == pipeline_spec(_manifest(plain), "p")


CHAIN = [{"name": "a"}, {"name": "b", "inputs": ["a"]}]
INVALID: list[tuple[dict[str, Any], str]] = [
    (_manifest({"steps": CHAIN}, kind="Model"), "must have apiVersion"),
    (_manifest({"steps": CHAIN}, name="other"), "metadata.name 'other' must be the folder's"),
    ({**_manifest({"steps": CHAIN}), "metadata": {"name": "P.x"}}, "metadata.name 'P.x' must"),
    (_manifest({"steps": []}), "pipeline 'p' has no steps defined"),
    (_manifest({"steps": [{"name": "a"}, {"name": "a"}]}), "has repeated step 'a'"),
    (_manifest({"steps": [{"name": "p"}]}), "must not have a step named like the pipeline"),
    (
        _manifest({"steps": [{"name": "a", "inputs": ["a.foo"]}]}),
        "pipeline 'p' step 'a' input 'a.foo' must be <step>.(inputs|outputs)[.<tensor>]",
    ),
    (
        _manifest({"steps": [{"name": "a", "inputs": [""]}]}),
        "pipeline 'p' step 'a' input '' is empty",
    ),
    (
        _manifest({"steps": [{"name": "a", "triggers": ["x.outputs.t.u"]}]}),
        "pipeline 'p' step 'a' trigger 'x.outputs.t.u' must be",
    ),
    (
        _manifest({"steps": [{"name": "a", "inputs": ["nope"]}]}),
        "pipeline 'p' step 'a' has input 'nope.outputs' for step 'nope', which does not exist",
    ),
    (
        _manifest({"steps": CHAIN, "output": {"steps": ["c"]}}),
        "pipeline 'p' output step 'c' not found",
    ),
    (_manifest({"steps": CHAIN}), "multi step pipeline 'p' must specify output"),
    (
        _manifest(
            {
                "steps": [{"name": "a", "inputs": ["b"]}, {"name": "b", "inputs": ["a"]}],
                "output": {"steps": ["b"]},
            }
        ),
        "pipeline 'p' has a cycle (a -> b -> a); allowCycles permits one",
    ),
    (
        _manifest(
            {
                "steps": [{"name": "a"}, {"name": "b", "inputs": ["a"], "triggers": ["a"]}],
                "output": {"steps": ["b"]},
            }
        ),
        "pipeline 'p' step 'b': inputs and triggers must differ, but 'a.outputs' is in both",
    ),
    (
        _manifest({"steps": [{"name": "a", "inputsJoinType": "left"}]}),
        "pipeline 'p' step 'a' inputsJoinType must be inner, outer or any, got 'left'",
    ),
    (
        _manifest({"steps": [{"name": "a"}], "input": {"externalInputs": []}}),
        "pipeline 'p' input externalInputs must be a non-empty list",
    ),
    (
        _manifest({"steps": [{"name": "a"}], "input": {"externalInputs": ["q.step.a.outputs"]}}),
        "pipeline 'p' input externalInputs 'q.step.a.outputs' must be <pipeline>.outputs",
    ),
    (
        _manifest({"steps": [{"name": "a"}], "input": {"externalInputs": ["q", "r.outputs"]}}),
        "externalInputs 'q' must be <pipeline>.outputs[.<tensor>]",
    ),
    (
        _manifest(
            {"steps": [{"name": "a"}], "input": {"externalInputs": ["q.outputs", "r.outputs"]}}
        ),
        "pipeline 'p' input externalInputs must all name one pipeline's outputs",
    ),
    (
        _manifest({"steps": [{"name": "a"}], "input": {"externalInputs": ["p.outputs"]}}),
        "externalInputs cannot name the pipeline's own outputs",
    ),
    (
        _manifest(
            {
                "steps": [{"name": "a"}],
                "input": {"externalInputs": ["q.outputs"], "joinType": "any"},
            }
        ),
        "pipeline 'p' input: 'joinType' is not served (externalInputs, tensorMap)",
    ),
    (
        _manifest(
            {
                "steps": [{"name": "a"}],
                "input": {"externalInputs": ["q.outputs"], "tensorMap": {"r.outputs.t": "u"}},
            }
        ),
        "pipeline 'p' input tensorMap key 'r.outputs.t' must be q.outputs.<tensor>",
    ),
    (
        _manifest({"steps": CHAIN, "output": {"steps": ["b"]}, "allowCycles": "false"}),
        "pipeline 'p': allowCycles must be true or false, got 'false'",
    ),
    (
        _manifest({"steps": [{"name": f"s{i}"} for i in range(257)]}),
        "pipeline 'p' has 257 steps, more than 256",
    ),
]


def test_spec_input_names_the_pipeline_whose_outputs_feed_it() -> None:
    external = {"externalInputs": ["q.outputs.t", "q.outputs.u"], "tensorMap": {"q.outputs.t": "x"}}
    spec = pipeline_spec(_manifest({"steps": [{"name": "a"}], "input": external}), "p")
    assert spec.input == PipelineInput("q", ("t", "u"), {"t": "x"})
    spec = pipeline_spec(
        _manifest({"steps": [{"name": "a"}], "input": {"externalInputs": ["q.outputs"]}}), "p"
    )
    assert spec.input == PipelineInput("q")


@pytest.mark.parametrize(("manifest", "expected"), INVALID)
def test_invalid_manifests_say_what_is_wrong(manifest: dict[str, Any], expected: str) -> None:
    with pytest.raises(PipelineError) as caught:
        pipeline_spec(manifest, "p")
    assert expected in caught.value.message


def test_a_value_in_a_message_is_cut_short() -> None:
    """A YAML alias bomb expands to gigabytes: the message shows a little of it."""
    bomb: Any = "x" * 100
    for _ in range(6):
        bomb = [bomb] * 10
    with pytest.raises(PipelineError) as caught:
        pipeline_spec(_manifest({"steps": [{"name": "a", "inputs": [bomb]}]}), "p")
    message = caught.value.message
    assert message.startswith("pipeline 'p' step 'a' input [[")
    assert message.endswith("is empty")
    assert len(message) < 200


def test_the_checks_run_in_seldons_order() -> None:
    """A step named like the pipeline is found before a bad reference of another step."""
    manifest = _manifest({"steps": [{"name": "a", "inputs": ["a.foo"]}, {"name": "p"}]})
    with pytest.raises(PipelineError, match="step named like the pipeline"):
        pipeline_spec(manifest, "p")
