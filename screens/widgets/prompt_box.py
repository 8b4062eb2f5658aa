"""The box a chapter opens for the viewer's own text (a prompt, a question, a context).

Docked at the bottom of the chapter and hidden until a key opens it; Enter sends the text
(an ``Input.Submitted`` the chapter handles), Escape closes it and gives the keys back to
the chapter's body.
"""

from __future__ import annotations

from textual.widgets import Input


class PromptBox(Input):
    DEFAULT_CSS = """
    PromptBox {
        dock: bottom;
        display: none;
    }
    PromptBox.-open {
        display: block;
    }
    """

    def open(self, value: str) -> None:
        """Show the box with ``value`` in it, ready to edit."""
        self.value = value
        self.add_class("-open")
        self.display = True  # at once (a class takes effect with the next style update)
        # Focus now, not after the next refresh: a viewer who types straight after the key
        # that opened the box sends it all in one read, and those keys must land here.
        self.screen.set_focus(self)
        if self.screen.focused is not self:
            self.focus()

    def close(self) -> None:
        """Hide the box; the chapter's body has the keys again."""
        self.remove_class("-open")
        self.display = False
        bodies = self.screen.query("#body")
        if bodies:
            bodies.first().focus()
