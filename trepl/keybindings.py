"""The shell's keys: Enter runs or continues, Tab completes or indents, Ctrl-L clears.

Ctrl-C (clear the line: prompt_toolkit raises KeyboardInterrupt, the app starts a fresh prompt)
and Ctrl-D (EOFError on an empty line, which the app turns into the exit question) keep
prompt_toolkit's own behaviour; Ctrl-R history search and Up/Down come from its emacs bindings.
While a Ctrl-R search is open, Enter is prompt_toolkit's `accept_search` (the line found goes
into the prompt), not ours: ours would act on the search field and leave the search open.
"""

from __future__ import annotations

from collections.abc import Callable

from prompt_toolkit.filters import has_completions, is_searching
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.key_binding.bindings.completion import generate_completions

INDENT = "    "


def create_key_bindings(is_complete: Callable[[str], tuple[bool, str]]) -> KeyBindings:
    """Key bindings for the `th` prompt.

    Args:
        is_complete: text -> (ready to run, indent for the next line); see Evaluator.is_complete.
    """
    bindings = KeyBindings()

    @bindings.add("enter", filter=~has_completions & ~is_searching)
    def _enter(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        ready, indent = is_complete(buffer.text)
        if ready:
            buffer.validate_and_handle()
        else:
            buffer.insert_text("\n" + indent)

    @bindings.add("enter", filter=has_completions & ~is_searching)
    def _enter_in_menu(event: KeyPressEvent) -> None:
        # Enter picks the highlighted completion and closes the menu (it never runs the line).
        buffer = event.current_buffer
        state = buffer.complete_state
        if state is not None and state.current_completion is not None:
            buffer.apply_completion(state.current_completion)
        buffer.cancel_completion()

    @bindings.add("tab", filter=~is_searching)
    def _tab(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        before = buffer.document.current_line_before_cursor
        if not before.strip() and not buffer.complete_state:
            buffer.insert_text(INDENT)
        else:
            generate_completions(event)

    @bindings.add("c-l")
    def _clear(event: KeyPressEvent) -> None:
        event.app.renderer.clear()

    return bindings
