"""io_utils.ask_to_proceed_with_overwrite: "y" proceeds, "n" cancels, anything else asks again
(the answers are fed to `input`)."""

import builtins

import pytest

from minikeras.utils import io_utils


@pytest.mark.parametrize(
    "answers, expected, asked",
    [(["y"], True, 1), (["N "], False, 1), (["maybe", "", "Y"], True, 3), (["?", "n"], False, 2)],
)
def test_ask_to_proceed_with_overwrite(monkeypatch, capsys, answers, expected, asked):
    prompts = []
    replies = iter(answers)

    def fake_input(prompt):
        prompts.append(prompt)
        return next(replies)

    monkeypatch.setattr(builtins, "input", fake_input)
    assert io_utils.ask_to_proceed_with_overwrite("model.keras") is expected
    assert len(prompts) == asked
    assert prompts[0] == "[WARNING] model.keras already exists - overwrite? [y/n]"
    assert ("Next time specify overwrite=True" in capsys.readouterr().out) == expected
