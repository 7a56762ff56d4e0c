"""A notebook page in headless Chromium, driven the way a person uses it: menus and buttons.

Selenium talks to Debian's `chromedriver` at a fixed path (`CHROMEDRIVER`), so nothing is ever
downloaded (Selenium Manager is never asked). What the page shows is read from the DOM that
Jupyter Notebook 7 renders: one `.jp-CodeCell` per code cell, its prompt `[n]:` / `[*]:`, and
its outputs with their MIME type in `data-mime-type`.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def missing_browser() -> str | None:
    """Why the browser tests cannot run here (one line), or None when they can."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).is_file() and shutil.which(Path(path).name) is None:
            return (
                f"no {Path(path).name} at {path} (Debian: apt-get install chromium chromium-driver)"
            )
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


def launch():
    """A headless Chromium under Selenium, 1400x1000."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1400,1000", "--disable-gpu"):  # fmt: skip
        options.add_argument(arg)
    service = Service(executable_path=shutil.which("chromedriver") or CHROMEDRIVER)
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_script_timeout(30)
    return driver


class NotebookPage:
    """One open notebook: run cells, wait for the kernel, read outputs, take a screenshot."""

    def __init__(self, driver, url: str, timeout: float = 60):
        self.driver = driver
        self.timeout = timeout
        driver.get(url)
        self.wait_for(
            lambda: self.js("return document.querySelectorAll('.jp-Notebook .jp-Cell').length"),
            "the notebook's cells to render",
        )
        self.wait_for(self.kernel_idle, "the kernel to start")

    # --------------------------------------------------------------------- plumbing
    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def wait_for(self, condition, what: str, timeout: float | None = None):
        """Poll `condition` until it is truthy; on timeout fail naming `what`."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.25)
        raise TimeoutError(f"waited {timeout or self.timeout:.0f} s for {what}")

    def kernel_idle(self) -> bool:
        """The page's kernel is connected and idle (read from the session the page holds)."""
        return bool(
            self.js(
                "const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                "const k = w && w.sessionContext && w.sessionContext.session"
                " && w.sessionContext.session.kernel;"
                "return !!k && k.connectionStatus === 'connected' && k.status === 'idle';"
            )
        )

    def click(self, find) -> None:
        """Click the element `find()` returns, as a person would: if something lies over it for a
        moment (a notification fading out), wait and try again, for up to ten seconds."""
        from selenium.common.exceptions import ElementClickInterceptedException

        deadline = time.monotonic() + 10
        while True:
            try:
                find().click()
                return
            except ElementClickInterceptedException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.25)

    def command(self, name: str) -> None:
        """Click the toolbar button that runs JupyterLab command `name`."""
        self.click(
            lambda: self.driver.find_element(
                "css selector", f'jp-button[data-command="{name}"], button[data-command="{name}"]'
            )
        )

    def menu(self, menu: str, item_command: str) -> None:
        """Open a menu of the menu bar by its title and click the item for `item_command`."""
        titles = self.driver.find_elements("css selector", ".lm-MenuBar-itemLabel")
        title = next((t for t in titles if t.text == menu), None)
        if title is None:
            raise AssertionError(f"no {menu!r} menu in the menu bar")
        self.click(lambda: title)
        self.click(
            lambda: self.driver.find_element(
                "css selector", f'.lm-Menu-item[data-command="{item_command}"]'
            )
        )

    # --------------------------------------------------------------------- running
    def prompts(self) -> list[str]:
        """Every code cell's prompt text: '[ ]:', '[*]:' or '[n]:'."""
        return self.js(
            "return [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]"
            ".map(p => p.textContent.trim());"
        )

    def run_all(self, timeout: float) -> None:
        """Run > Run All Cells, then wait until the run has ended: no cell is queued or running
        ('[*]:') and the kernel is idle. A run stops at a cell that raises; the cells after it
        keep '[ ]:'."""
        self.menu("Run", "runmenu:run-all")
        self.wait_for(lambda: any(p != "[ ]:" for p in self.prompts()), "the run to start", 20)
        self.wait_for(
            lambda: "[*]:" not in self.prompts() and self.kernel_idle(),
            "every cell to run",
            timeout,
        )

    def run_cell(self, index: int) -> None:
        """Select code cell `index` and press the toolbar's run button."""
        cell = self.driver.find_elements("css selector", ".jp-CodeCell")[index]
        self.click(lambda: cell.find_element("css selector", ".jp-InputArea-prompt"))
        self.command("notebook:run-cell-and-select-next")

    # --------------------------------------------------------------------- reading
    def outputs(self, index: int | None = None) -> list[dict]:
        """The outputs of code cell `index` (all cells when None): mime type, text, and the
        output element itself (for Selenium)."""
        return self.js(
            "const cells = [...document.querySelectorAll('.jp-CodeCell')];"
            "const pick = arguments[0] === null ? cells : [cells[arguments[0]]];"
            "return pick.flatMap((cell, i) => [...cell.querySelectorAll("
            "'.jp-OutputArea-output')].map(o => ({cell: arguments[0] === null ? i : "
            "arguments[0], mime: o.getAttribute('data-mime-type'), text: o.textContent,"
            " element: o})));",
            index,
        )

    def errors(self) -> list[str]:
        """Every error output of the notebook ('cell n: Ename: value').

        Jupyter renders a traceback like stderr text, so the kind of each output is read from
        the notebook's model (``window.jupyterapp``, which the server exposes for tests).
        """
        return self.js(
            "const cells = window.jupyterapp.shell.currentWidget.content.widgets"
            ".filter(c => c.model.type === 'code');"
            "return cells.flatMap((c, i) => c.model.outputs.toJSON()"
            ".filter(o => o.output_type === 'error')"
            ".map(o => `cell ${i}: ${o.ename}: ${o.evalue}`));"
        )

    def show_first_error(self) -> None:
        """Scroll the first error output (if any) into view, for the screenshot."""
        self.js(
            "const e = [...document.querySelectorAll('.jp-OutputArea-output')]"
            ".find(o => o.textContent.includes('Traceback'));"
            "if (e) e.scrollIntoView();"
        )

    def save(self) -> None:
        """File > Save (the toolbar button), and wait until the page has no unsaved changes."""
        self.command("docmanager:save")
        self.wait_for(lambda: not self.js("return document.title.startsWith('*')"), "the save", 20)

    def screenshot(self, path: Path) -> Path:
        """The page as shown now, as PNG at `path`."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(path))
        return path
