"""The web pages in a real headless Chromium (selenium, Debian's chromium and
chromium-driver: scripts/setup-browser.sh) against a real server: uvicorn on 127.0.0.1
with the dispatcher on and the stand-in pipeline of ``PODIUM_EXECUTE_FAKE`` (``slow:N``:
resolving, starting, N seconds evaluating, then a fixed score), so a submission moves
through its states while a page is open. One server and one browser for the module.

Plus the JSON the pages read that is new with them (``/api/admin/queue``, the public
report of a submission), with the TestClient."""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from live_server import Server

from podium.platform.models import Role, State, Submission, SubmissionEvent

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    # without these Chromium's own connections are refused on a closed network, slowly
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1366,900",
)
FAKE_SECONDS = 3
DEMO = Path(__file__).parents[2] / "src" / "podium" / "data" / "challenges" / "demo"
RUNNING = {"resolving", "compiling", "starting", "evaluating"}


# -- the server, its users and submissions ---------------------------------------------


@dataclass
class Site:
    srv: Server
    url: str
    tokens: dict[str, str]  # user name -> API token
    ids: dict[str, int]  # user name -> user id

    def add(self, owner: str, state: State, *, score: float | None = None, **fields: object) -> int:
        """A submission of ``owner`` on the demo challenge, stored as admission (and, for
        a final one, the pipeline) would leave it; a queued one wakes the dispatcher."""
        path = [State.QUEUED] if state is State.QUEUED else [State.QUEUED, State.RESOLVING, State.STARTING, state]
        t0 = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=7 * (len(path) - 1))
        with self.srv.db.session() as session, session.begin():
            sub = Submission(
                owner_id=self.ids[owner], challenge_id=1, spec={"hf_repo": f"{owner}/model"},
                hf_repo=f"{owner}/model", requested_revision="v1", pinned_commit="ab12" * 10,
                state=state, counted_against_quota=True, score_public=score,
                score_private=None if score is None else score / 2, tokens_per_s=None if score is None else 20.0,
                **fields,
            )
            session.add(sub)
            session.flush()
            for i, s in enumerate(path):
                session.add(SubmissionEvent(submission_id=sub.id, state=s, at=t0 + dt.timedelta(seconds=7 * i),
                                            detail="admitted" if s is State.QUEUED else ""))
            sid = sub.id
        if state is State.QUEUED:
            self.srv.app.state.dispatcher.wake()
        return sid


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    from podium.platform.challenges import service as challenges
    from podium.platform.users import service as users

    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("PODIUM_DATABASE_URL", raising=False)
        mp.setenv("PODIUM_EXECUTE_FAKE", f"slow:{FAKE_SECONDS}")  # inherited by the execute processes
        # a worker is lost only after a minute of silence: `podium execute` may take
        # seconds to start on a busy machine, and a lost attempt would change the stages
        srv = Server(tmp_path_factory.mktemp("web") / "data", slots={"cpu": 1}, heartbeat_timeout_s=60.0)
        srv.start()
        tokens, ids = {}, {}
        with srv.db.session() as session, session.begin():
            challenges.add_or_update(session=session, path=DEMO)
            for name, role in (("ada", Role.PARTICIPANT), ("bob", Role.PARTICIPANT), ("olga", Role.ORGANISER)):
                user = users.create_user(session=session, name=name, role=role)
                tokens[name] = users.create_token(session=session, user=user)
                session.flush()
                ids[name] = user.id
        try:
            yield Site(srv, srv.dispatch.server_url, tokens, ids)
        finally:
            srv.stop()


# -- the browser -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(f"{' and '.join(missing)} missing: run scripts/setup-browser.sh (make setup-test runs it), "
                    "which installs Debian's chromium and chromium-driver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("selenium is missing: pip install -e '.[test]' (make setup-test)")

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # for csp_violations()
    profile = tempfile.TemporaryDirectory(prefix="podium-chromium-")
    for flag in (*FLAGS, f"--user-data-dir={profile.name}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        profile.cleanup()


def wait(driver, what, timeout: float = 20.0, message: str = ""):
    """Poll ``what(driver)`` until it returns something truthy (stale elements retried)."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1,
                         ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
                         ).until(what, message)


def css(driver, selector: str):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def text(driver, selector: str) -> str:
    found = css(driver, selector)
    return found[0].text if found else ""


def login(driver, site: Site, who: str | None) -> None:
    """Through the login page, as a user would (``None``: a token that is not valid)."""
    driver.get(site.url + "/login")
    token = site.tokens[who] if who else "pdm_not-a-token"
    css(driver, "#token")[0].send_keys(token)
    css(driver, "#login-button")[0].click()
    if who is None:
        wait(driver, lambda d: text(d, "#error"))
        return
    wait(driver, lambda d: f"Logged in as {who}" in text(d, "#login-status"), message=text(driver, "#error"))
    wait(driver, lambda d: text(d, "#whoami").startswith(who))


def csp_violations(driver) -> list[str]:
    """What the browser refused under the pages' Content-Security-Policy since the last
    call (Chromium logs each refusal to the console)."""
    return [e["message"] for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]


def state_of(driver) -> str:
    badge = css(driver, "#state .badge")
    return badge[0].get_attribute("data-state") if badge else ""


# -- the tests -------------------------------------------------------------------------


def test_login_challenges_and_leaderboard(browser, site: Site) -> None:
    ada_best = site.add("ada", State.SCORED, score=0.6)
    site.add("ada", State.SCORED, score=0.4)  # not her best: not on the board
    bob_best = site.add("bob", State.SCORED, score=0.75)
    site.add("bob", State.FAILED, error_code="ENGINE_START_FAILED", error_message="vLLM exited",
             error_hint="see the log")

    login(browser, site, None)
    error = text(browser, "#error")
    assert "NOT_AUTHENTICATED" in error and "ask the organisers for a token" in error
    assert text(browser, "#whoami") == "not logged in"

    login(browser, site, "ada")
    assert "participant" in text(browser, "#whoami")

    browser.get(site.url + "/")
    link = wait(browser, lambda d: css(d, "tr[data-challenge='demo'] a"))[0]
    assert css(browser, "tr[data-challenge='demo'] .badge")[0].text == "cpu"
    link.click()
    wait(browser, lambda d: css(d, "#leaderboard-table tbody tr"))
    assert browser.current_url == site.url + "/challenges/demo/leaderboard"
    assert "Podium demo" in text(browser, "#challenge-title")
    rows = [(r.get_attribute("data-rank"), r.find_element("css selector", ".participant").text,
             r.find_element("css selector", ".score").text)
            for r in css(browser, "#leaderboard-table tbody tr")]
    assert rows == [("1", "bob", "0.750"), ("2", "ada", "0.600")]
    # her own submission links to its page; bob's is only a number (its page is his)
    assert [a.get_attribute("href") for a in css(browser, "tr[data-rank='2'] a")] == [f"{site.url}/submissions/{ada_best}"]
    assert not css(browser, "tr[data-rank='1'] a")
    assert text(browser, "tr[data-rank='1'] td:last-child") == f"#{bob_best}"

    css(browser, "button[data-split='private']")[0].click()  # not revealed to participants
    error = wait(browser, lambda d: text(d, "#error"))
    assert "FORBIDDEN" in error and "not revealed yet" in error and "see the public split" in error
    assert not css(browser, "#leaderboard-table")


def test_submission_page_follows_a_submission_until_scored(browser, site: Site) -> None:
    finding = {"severity": "warning", "code": "MAX_MODEL_LEN_SMALL", "message": "only 512 tokens",
               "hint": "raise --vllm.max-model-len"}
    blocker = site.add("bob", State.QUEUED)  # takes the one cpu slot first
    sid = site.add("ada", State.QUEUED, findings=[finding])
    login(browser, site, "ada")
    browser.get(f"{site.url}/submissions/{sid}")
    wait(browser, lambda d: state_of(d) == "queued", message="the page never showed 'queued'")
    assert text(browser, "#queue-position").startswith("#")
    li = css(browser, "#findings li[data-code='MAX_MODEL_LEN_SMALL']")[0]
    assert "warning" in li.text and "raise --vllm.max-model-len" in li.text
    browser.execute_script("window.podiumMarker = 'same page'")

    wait(browser, lambda d: state_of(d) in RUNNING, timeout=60, message="never running")
    wait(browser, lambda d: state_of(d) == "scored", timeout=60, message="never scored")
    assert browser.execute_script("return window.podiumMarker") == "same page", "the page was reloaded"

    states = [r.get_attribute("data-state") for r in css(browser, "#timeline tbody tr[data-state]")]
    assert states == ["queued", "resolving", "starting", "evaluating", "scored"]
    durations = [r.find_element("css selector", ".duration").text for r in css(browser, "#timeline tbody tr[data-state]")]
    assert all(d.endswith(" s") for d in durations[:-1]) and durations[-1] == ""
    # evaluating lasts the stand-in's FAKE_SECONDS
    assert FAKE_SECONDS <= float(durations[3].split()[0]) < FAKE_SECONDS + 10
    assert text(browser, "#total-duration")
    # the bars get their widths through CSSOM, which the pages' CSP allows (a style
    # attribute would be refused and every bar would be 1 px wide)
    bars = {r.get_attribute("data-state"): r.find_element("css selector", ".bar").size["width"]
            for r in css(browser, "#timeline tbody tr[data-state]")[:4]}
    assert bars["queued"] > 20 * bars["resolving"] and bars["evaluating"] > 20 * bars["resolving"]

    assert text(browser, "#score-value") == "0.500"
    stats = {r.get_attribute("data-key"): r.find_element("css selector", "td").text
             for r in css(browser, "#stats-table tr")}
    assert stats["latency p50 / p90 / p99"] == "1.10 s / 1.34 s / 1.39 s"
    assert stats["TTFT p50 / p90 / p99"] == "275 ms / 335 ms / 349 ms"
    assert stats["output tokens/s"] == "12.5" and stats["requests / errors"] == "2 / 0"
    bars = css(browser, "#histogram svg rect.hbar")
    assert len(bars) == 12
    assert [int(b.get_attribute("data-count")) for b in bars] == [1] + [0] * 10 + [1]

    log = wait(browser, lambda d: "(complete)" in text(d, "#log-state") and text(d, "#log"))
    assert "fake: resolved" in log and '"prompt": "p1"' in log
    assert "SECRET-PROMPT" not in log  # the private split's line is for organisers

    browser.get(site.url + "/submissions")
    row = wait(browser, lambda d: css(d, f"#submissions-table tr[data-id='{sid}']"))[0]
    assert row.find_element("css selector", ".badge").get_attribute("data-state") == "scored"
    assert not css(browser, f"#submissions-table tr[data-id='{blocker}']")  # bob's

    failed = site.add("ada", State.FAILED, error_code="ENGINE_TIMEOUT", error_message="vLLM did not start in 600 s",
                      error_hint="a smaller --vllm.max-model-len starts faster")
    browser.get(f"{site.url}/submissions/{failed}")
    wait(browser, lambda d: state_of(d) == "failed")
    error = text(browser, "#submission-error")
    assert "ENGINE_TIMEOUT" in error and "vLLM did not start" in error and "starts faster" in error
    assert "Finished: failed" in text(browser, "#live")
    assert csp_violations(browser) == []


def test_queue_page_is_for_organisers(browser, site: Site) -> None:
    login(browser, site, "ada")
    browser.get(site.url + "/admin/queue")
    error = wait(browser, lambda d: text(d, "#error"))
    assert "FORBIDDEN" in error and "only organisers" in error and "organiser's API token" in error
    assert not css(browser, "#queue-view")[0].is_displayed()

    login(browser, site, "olga")
    browser.get(site.url + "/admin/queue")
    cpu = "#capacity tr[data-target='cpu']"
    wait(browser, lambda d: text(d, f"{cpu} .slots") == "1")
    assert text(browser, "#executor") == "Dispatcher on; attempts run on the local executor."
    assert text(browser, f"{cpu} .running") == "0" and not text(browser, "#error")
    assert not css(browser, "#executor-unavailable")[0].is_displayed()

    # the executor cannot start anything (its attempts directory is a file for a while):
    # the page says so while the submission waits, and stops saying so once it runs
    attempts_dir = site.srv.settings.data_dir / "attempts"
    aside = attempts_dir.with_name("attempts-aside")
    attempts_dir.mkdir(exist_ok=True)  # made by the first attempt: not yet when this test runs alone
    attempts_dir.rename(aside)
    attempts_dir.write_text("not a directory")
    try:
        waiting = site.add("ada", State.QUEUED)
        away = wait(browser, lambda d: css(d, "#executor-unavailable")[0].is_displayed()
                    and text(d, "#executor-unavailable"))
    finally:
        attempts_dir.unlink()
        aside.rename(attempts_dir)
    assert "The local executor cannot start submissions" in away and "nothing is counted" in away
    assert "could not start podium execute here" in away and "Not a directory" in away
    wait(browser, lambda d: not css(d, "#executor-unavailable")[0].is_displayed(), timeout=45)
    wait(browser, lambda d: text(d, f"{cpu} .running") == "0" and text(d, f"{cpu} .queued") == "0", timeout=60)
    with site.srv.db.session() as session:
        assert (session.get(Submission, waiting).state, session.get(Submission, waiting).attempts) == (State.SCORED, 1)

    first, second = site.add("bob", State.QUEUED), site.add("ada", State.QUEUED)
    # one slot: the first runs, the second waits (no reload: the page polls)
    wait(browser, lambda d: (text(d, f"{cpu} .running"), text(d, f"{cpu} .queued"), text(d, f"{cpu} .free"))
         == ("1", "1", "0"), timeout=30, message="never 1 running and 1 queued")
    assert css(browser, f"#inflight-table tr[data-id='{first}']") and css(browser, f"#inflight-table tr[data-id='{second}']")
    assert len(css(browser, "#attempts tbody tr")) == 1
    wait(browser, lambda d: (text(d, f"{cpu} .running"), text(d, f"{cpu} .queued")) == ("0", "0"), timeout=60,
         message="the queue never drained")
    assert "Nothing queued or running" in text(browser, "#inflight")
    with site.srv.db.session() as session:
        assert {session.get(Submission, i).state for i in (first, second)} == {State.SCORED}


# -- the JSON behind the pages (no browser) ----------------------------------------------


def test_queue_api_is_for_organisers(platform) -> None:
    c = platform.client
    assert c.get("/api/admin/queue").json()["error"]["code"] == "NOT_AUTHENTICATED"
    r = c.get("/api/admin/queue", headers=platform.headers("a"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"
    with platform.db.session() as session, session.begin():
        for _ in range(2):
            sub = Submission(owner_id=1, challenge_id=1, hf_repo="o/m", state=State.QUEUED)
            session.add(sub)
    r = c.get("/api/admin/queue", headers=platform.headers("org"))
    assert r.status_code == 200
    body = r.json()
    # the TestClient runs no lifespan: no dispatcher, nothing started
    assert body["dispatcher"] is False and body["executor"] is None and body["attempts"] == []
    assert body["targets"] == [{"target": "cpu", "slots": 1, "running": 0, "queued": 2, "free": 1}]
    assert [(s["owner"], s["state"], s["queue_position"]) for s in body["submissions"]] == [
        ("user-a", "queued", 1), ("user-a", "queued", 2)]


def test_a_submission_shows_the_public_part_of_its_report(platform) -> None:
    report = {"primary_metric": "exact_match", "primary_split": "public", "primary_value": 0.5,
              "primary_by_split": {"public": 0.5, "private": 0.25},
              "metrics": {"public": {"exact_match": 0.5}, "private": {"exact_match": 0.25},
                          "all": {"exact_match": 0.4}},
              "counts": {"public": 2, "private": 3, "all": 5},
              "requests": {"output_tokens_per_s": 9.0, "latency_histogram": {"edges_s": [0.1, 0.2], "counts": [5]}},
              "stage_timings": {"evaluate": 3.0}}
    with platform.db.session() as session, session.begin():
        sub = Submission(owner_id=1, challenge_id=1, hf_repo="o/m", state=State.SCORED, report=report,
                         score_public=0.5, score_private=0.25)
        session.add(sub)
        session.flush()
        sid = sub.id
    shown = platform.client.get(f"/api/submissions/{sid}", headers=platform.headers("a")).json()["report"]
    assert shown["metrics"] == {"public": {"exact_match": 0.5}} and shown["counts"] == {"public": 2}
    assert shown["primary_value"] == 0.5 and "primary_by_split" not in shown
    assert "0.25" not in str(shown) and "private" not in str(shown)
    assert shown["requests"] == report["requests"] and shown["stage_timings"] == {"evaluate": 3.0}


def test_pages_and_static_files_are_served(platform) -> None:
    c = platform.client
    for path in ("/", "/login", "/challenges/t1/leaderboard", "/submissions", "/submissions/7", "/admin/queue"):
        r = c.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), path
        assert '<nav class="nav">' in r.text and "/static/podium.js" in r.text
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["referrer-policy"] == "no-referrer"
    assert 'data-id="7"' in c.get("/submissions/7").text
    assert "&lt;script&gt;" in c.get("/challenges/<script>/leaderboard").text  # escaped
    assert c.get("/static/podium.js").headers["content-type"].startswith("text/javascript")
    assert c.get("/static/podium.css").status_code == 200
    assert c.get("/submissions/abc").status_code == 422
