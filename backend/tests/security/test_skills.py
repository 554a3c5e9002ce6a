"""Skills through the real stack, as builders, end users and attackers would try them: a builder's skill
reaches the deep agent's runs (the offline model reads its SKILL.md and follows it), end users and
viewers change nothing, another org's skills are absent, a bad SKILL.md is a 422 that keeps nothing,
and neither the agent nor the raw store API can rewrite a skill."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from atrium.runtime.tests.conformance.agent_support import identities_of
from atrium.runtime.tests.live_stack import LiveStack


def skill_md(name: str, phrase: str, *, description: str | None = None) -> str:
    description = description if description is not None else f"Answers in the {name} way."
    front = f"---\nname: {name}\ndescription: {description}\n---\n\n"
    return f'{front}# {name}\n\nAnswer with the phrase "{phrase}".\n'


def unique(prefix: str = "skill") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def api(stack: LiveStack, who: str, method: str, path: str, body: Any = None) -> httpx.Response:
    """The control plane as `who`, in `who`'s own org."""
    url = f"{stack.base_url}/api/v1/orgs/{stack.org_slug(who)}{path}"
    return httpx.request(method, url, json=body, headers=stack.headers(who), timeout=15)


def answer(stack: LiveStack, who: str, assistant_id: str, text: str) -> str:
    client = stack.sync_client(who)
    thread = client.threads.create()["thread_id"]
    state = client.runs.wait(thread, assistant_id, input={"messages": [{"role": "user", "content": text}]})
    assert isinstance(state, dict), state
    content = state["messages"][-1]["content"]
    return content if isinstance(content, str) else json.dumps(content)


def new_agent(stack: LiveStack, who: str = "editor") -> str:
    created = stack.sync_client(who).assistants.create(graph_id="agent", name=unique("agent"))
    return str(created["assistant_id"])


def test_a_builders_org_skill_is_used_by_the_offline_model_in_a_run(stack: LiveStack) -> None:
    # Given a builder's org skill and an assistant of the deep agent
    name, phrase = unique(), f"Skill phrase {uuid.uuid4().hex[:6]}"
    created = api(stack, "editor", "post", "/skills", {"files": {"SKILL.md": skill_md(name, phrase)}})
    assert created.status_code == 201, created.text
    assert (created.json()["name"], created.json()["assistant_id"]) == (name, None)
    assistant = new_agent(stack)

    # When an end user asks for it by name
    reply = answer(stack, "enduser", assistant, f"please use the {name} skill")

    # Then the agent read its SKILL.md and followed it
    assert reply == phrase
    # And members can read it; its files came back as they were written
    listed = api(stack, "viewer", "get", "/skills").json()
    assert name in [s["name"] for s in listed]


def test_an_assistants_skill_wins_over_the_orgs_for_that_assistant_only(stack: LiveStack) -> None:
    name = unique()
    api(stack, "editor", "post", "/skills", {"files": {"SKILL.md": skill_md(name, "from the org")}})
    helper, other = new_agent(stack), new_agent(stack)
    created = api(
        stack,
        "editor2",
        "post",
        f"/assistants/{helper}/skills",
        {"files": {"SKILL.md": skill_md(name, "from helper"), "scripts/run.py": "print('hi')\n"}},
    )
    assert created.status_code == 201, created.text

    assert answer(stack, "editor", helper, f"use the {name} skill") == "from helper"
    assert answer(stack, "editor", other, f"use the {name} skill") == "from the org"


def test_a_builders_edit_reaches_the_next_thread_and_a_delete_removes_the_skill(stack: LiveStack) -> None:
    name = unique()
    api(stack, "editor", "post", "/skills", {"files": {"SKILL.md": skill_md(name, "first")}})
    assistant = new_agent(stack)
    edited = api(
        stack, "editor2", "put", f"/skills/{name}", {"files": {"SKILL.md": skill_md(name, "second")}}
    )
    assert edited.status_code == 200, edited.text
    assert answer(stack, "editor", assistant, f"use the {name} skill") == "second"

    assert api(stack, "editor", "delete", f"/skills/{name}").status_code == 204
    assert answer(stack, "editor", assistant, f"use the {name} skill") == f"You said: use the {name} skill"


@pytest.mark.parametrize("who", ["enduser", "viewer"])
def test_end_users_and_viewers_cannot_create_change_or_delete_skills(stack: LiveStack, who: str) -> None:
    # Given a builder's skill
    name = unique()
    api(stack, "editor", "post", "/skills", {"files": {"SKILL.md": skill_md(name, "original")}})
    assistant = new_agent(stack)
    before = api(stack, "editor", "get", "/skills").json()

    # When an end user or viewer tries to create, change or delete skills, at org and assistant level
    answers = [
        api(stack, who, "post", "/skills", {"files": {"SKILL.md": skill_md(unique(), "mine")}}),
        api(stack, who, "put", f"/skills/{name}", {"files": {"SKILL.md": skill_md(name, "hijacked")}}),
        api(stack, who, "delete", f"/skills/{name}"),
        api(
            stack,
            who,
            "post",
            f"/assistants/{assistant}/skills",
            {"files": {"SKILL.md": skill_md(name, "x")}},
        ),
    ]

    # Then each is refused, and the skill and what runs see are as they were
    assert [a.status_code for a in answers] == [403, 403, 403, 403], [a.text for a in answers]
    assert api(stack, "editor", "get", "/skills").json() == before
    assert answer(stack, "editor", assistant, f"use the {name} skill") == "original"


def test_another_orgs_skill_is_absent_and_never_reaches_this_orgs_runs(stack: LiveStack) -> None:
    # Given org b's skill
    name = unique()
    theirs = api(stack, "other", "post", "/skills", {"files": {"SKILL.md": skill_md(name, "org b's secret")}})
    assert theirs.status_code == 201, theirs.text
    assistant = new_agent(stack)

    # When org a's builder asks for it by name, in the API and in a run
    got = api(stack, "editor", "get", f"/skills/{name}")
    changed = api(stack, "editor", "put", f"/skills/{name}", {"files": {"SKILL.md": skill_md(name, "x")}})
    deleted = api(stack, "editor", "delete", f"/skills/{name}")
    reply = answer(stack, "editor", assistant, f"use the {name} skill")

    # Then it does not exist for them, and org b's skill is untouched
    assert [got.status_code, changed.status_code, deleted.status_code] == [404, 404, 404]
    assert api(stack, "editor", "get", "/skills/a%00b").status_code == 404
    assert name not in [s["name"] for s in api(stack, "editor", "get", "/skills").json()]
    assert reply == f"You said: use the {name} skill"
    assert "org b's secret" in api(stack, "other", "get", f"/skills/{name}").json()["files"]["SKILL.md"]


@pytest.mark.parametrize(
    ("files", "code"),
    [
        ({"SKILL.md": "no frontmatter here"}, "invalid_frontmatter"),
        ({"SKILL.md": "---\nname: [unclosed\n---\n"}, "invalid_frontmatter"),
        ({"SKILL.md": skill_md("Bad_Name", "x")}, "invalid_name"),
        ({"SKILL.md": skill_md("-bad", "x")}, "invalid_name"),
        ({"SKILL.md": skill_md("a" * 65, "x")}, "invalid_name"),
        ({"SKILL.md": skill_md("{name}", "x", description="")}, "invalid_description"),
        ({"SKILL.md": skill_md("{name}", "x", description="d" * 1025)}, "invalid_description"),
        ({"README.md": "no SKILL.md"}, "missing_skill_md"),
        ({"SKILL.md": skill_md("{name}", "x"), "../escape.py": "x"}, "invalid_path"),
        ({"SKILL.md": skill_md("{name}", "x"), "/abs.py": "x"}, "invalid_path"),
        ({"SKILL.md": skill_md("{name}", "x"), "big.txt": "x" * (256 * 1024 + 1)}, "file_too_large"),
        (
            {"SKILL.md": skill_md("{name}", "x"), **{f"f{i}.txt": "x" * 200_000 for i in range(6)}},
            "skill_too_large",
        ),
    ],
)
def test_a_bad_skill_is_a_422_and_nothing_is_stored(
    stack: LiveStack, files: dict[str, str], code: str
) -> None:
    name = unique()
    files = {path: text.replace("{name}", name) for path, text in files.items()}
    before = api(stack, "editor", "get", "/skills").json()

    refused = api(stack, "editor", "post", "/skills", {"files": files})

    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == code
    assert refused.json()["detail"]
    assert api(stack, "editor", "get", "/skills").json() == before
    assert (
        answer(stack, "editor", new_agent(stack), f"use the {name} skill")
        == f"You said: use the {name} skill"
    )


def test_an_edit_cannot_rename_a_skill_or_break_it(stack: LiveStack) -> None:
    name = unique()
    api(stack, "editor", "post", "/skills", {"files": {"SKILL.md": skill_md(name, "kept")}})
    renamed = api(stack, "editor", "put", f"/skills/{name}", {"files": {"SKILL.md": skill_md(unique(), "x")}})
    broken = api(stack, "editor", "put", f"/skills/{name}", {"files": {"SKILL.md": "broken"}})
    assert [renamed.status_code, broken.status_code] == [422, 422]
    assert answer(stack, "editor", new_agent(stack), f"use the {name} skill") == "kept"


def test_the_agent_cannot_write_to_the_skills_location(stack: LiveStack) -> None:
    # Given a builder's skill
    name = unique()
    api(stack, "editor", "post", "/skills", {"files": {"SKILL.md": skill_md(name, "original")}})
    assistant = new_agent(stack)

    # When an end user's run asks the agent to overwrite it
    for tool, args in (
        ("write_file", {"file_path": f"/skills/org/{name}/SKILL.md", "content": skill_md(name, "hijacked")}),
        (
            "edit_file",
            {"file_path": f"/skills/org/{name}/SKILL.md", "old_string": "original", "new_string": "x"},
        ),
    ):
        answer(stack, "enduser", assistant, f"call {tool} {json.dumps(args)}")

    # Then later runs still follow the builder's skill
    assert answer(stack, "enduser", assistant, f"use the {name} skill") == "original"


def test_the_raw_store_api_cannot_write_skills(stack: LiveStack, django_db_blocker: Any) -> None:
    # Given the org's skills namespaces, as the agent reads them
    identities = identities_of(stack, django_db_blocker)
    org = identities["admin"].org_id
    name = unique()
    api(stack, "editor", "post", "/skills", {"files": {"SKILL.md": skill_md(name, "original")}})
    assistant = new_agent(stack)

    # When an admin and a builder write there through the store API, around the control plane's checks
    refused = []
    for who in ("admin", "editor"):
        for namespace in (["org", org, "skills"], ["org", org, "assistant", assistant, "skills"]):
            response = httpx.put(
                f"{stack.url}/store/items",
                json={"namespace": namespace, "key": f"/{name}/SKILL.md", "value": {"content": "hijacked"}},
                headers=stack.headers(who),
                timeout=15,
            )
            refused.append(response.status_code)

    # Then each is refused, and runs still follow the builder's skill
    assert refused == [403, 403, 403, 403]
    item = stack.sync_client("viewer").store.get_item(["org", org, "skills"], f"/{name}/SKILL.md")
    assert item is not None
    assert "original" in item["value"]["content"]
