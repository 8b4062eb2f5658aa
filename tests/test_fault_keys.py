from tui.app import TourApp
from textual.command import CommandPalette, CommandList
import pytest

@pytest.mark.parametrize("seq", [["g","pagedown"], ["g","pageup"], ["g","x","y","z","pagedown"], ["g","escape","g","pagedown"], ["g", "t", "pagedown", "pageup"]])
async def test_pal(workspace, seq):
    app = TourApp(workspace)
    async with app.run_test(size=(60, 20)) as pilot:
        for k in seq:
            await pilot.press(k)
        await pilot.pause()
        print(seq, app.return_code, app._exception)
