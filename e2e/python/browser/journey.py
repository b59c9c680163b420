"""A real browser through fake-auth0's login and consent pages.

Debian's Chromium, driven by Debian's chromedriver through Selenium, signs in as a person
would, through a client registered dynamically (RFC 7591), as every MCP client is:

  1. the login page of an authorization request (PKCE S256, state, audience the upstream
     API, scope openid);
  2. a wrong password: the error is shown and the form keeps the email;
  3. the right password: the consent page lists the scopes the token will carry;
  4. decline: the client's redirect URI gets error=access_denied with state and iss;
  5. a new request, the form filled by picking a demo user from the login page's list,
     accept: the redirect URI gets code, state and iss; the code is exchanged, and the
     token's scopes are exactly the ones the consent page listed;
  6. logout (/v2/logout).

A screenshot of each page is saved in the screenshot directory (CI keeps it as an artefact).

Usage: python journey.py <issuer> <screenshot dir>, e.g. http://127.0.0.1:4000/ target/browser.
CHROMIUM and CHROMEDRIVER name the browser and its driver (default: Debian's paths).
Exits non-zero on the first failed check, with what the page showed.
"""

import base64
import hashlib
import http.server
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

UPSTREAM_API = "http://localhost:8787/"
PAGE_TIMEOUT_SECONDS = 10
PASSED = 0


def check(condition: bool, what: str, driver=None) -> None:
    global PASSED
    if not condition:
        page = ""
        if driver is not None:
            page = f"\n--- the page at {driver.current_url} ---\n{driver.find_element(By.TAG_NAME, 'body').text}"
        print(f"browser: {PASSED} passed, 1 failed")
        raise SystemExit(f"FAILED: {what}{page}")
    PASSED += 1
    print(f"ok: {what}")


class Callback(http.server.BaseHTTPRequestHandler):
    """The registered client's redirect URI: answers a plain page, so the browser shows
    something to screenshot; the parameters are read from the browser's URL."""

    def do_GET(self) -> None:  # noqa: N802 (the http.server API)
        body = b"<!doctype html><title>Client callback</title><p>The client got the redirect.</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


def post_form(url: str, form: dict) -> dict:
    request = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode())
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


def claims_of(token: str) -> dict:
    """A JWT's claims, decoded without verification (the Rust tests and the Auth0 SDK
    journey verify signatures; this journey checks what the pages promised)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=900,1100", "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    # Debian's driver: Selenium Manager is never asked to download one.
    service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    return webdriver.Chrome(service=service, options=options)


def main() -> None:
    issuer, shots = sys.argv[1], Path(sys.argv[2])
    shots.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    callback = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Callback)
    threading.Thread(target=callback.serve_forever, daemon=True).start()
    redirect_uri = f"http://127.0.0.1:{callback.server_address[1]}/callback"
    client = post_json(f"{issuer}oidc/register", {
        "client_name": "Browser journey",
        "redirect_uris": [redirect_uri],
        "token_endpoint_auth_method": "none",
    })
    client_id = client["client_id"]
    check(bool(client_id), "a client was registered dynamically")

    driver = browser()
    wait = WebDriverWait(driver, PAGE_TIMEOUT_SECONDS)

    def shot(name: str) -> None:
        driver.save_screenshot(str(shots / f"{name}.png"))

    def authorize() -> tuple[str, str]:
        verifier, challenge = pkce()
        state = secrets.token_urlsafe(12)
        query = urllib.parse.urlencode({
            "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
            "audience": UPSTREAM_API, "scope": "openid", "state": state,
            "code_challenge": challenge, "code_challenge_method": "S256",
        })
        driver.get(f"{issuer}authorize?{query}")
        return verifier, state

    def redirected() -> dict:
        wait.until(lambda d: d.current_url.startswith(redirect_uri))
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(driver.current_url).query))

    try:
        # 1. The login page.
        verifier, state = authorize()
        check(driver.title.startswith("Log in"), f"the login page is shown ({driver.title!r})", driver)
        check(len(driver.find_elements(By.CSS_SELECTOR, "form[action='/u/login']")) == 1,
              "it has one login form", driver)
        shot("1-login")

        # 2. A wrong password.
        driver.find_element(By.NAME, "username").send_keys("admin@example.com")
        driver.find_element(By.NAME, "password").send_keys("not-the-password")
        driver.find_element(By.CSS_SELECTOR, "form[action='/u/login'] button").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".error"))
        error = driver.find_element(By.CSS_SELECTOR, ".error").text
        check(error == "Wrong email or password.", f"the error is shown ({error!r})", driver)
        kept = driver.find_element(By.NAME, "username").get_attribute("value")
        check(kept == "admin@example.com", f"the form keeps the email ({kept!r})", driver)
        shot("2-wrong-password")

        # 3. The right password: the consent page.
        driver.find_element(By.NAME, "password").send_keys("admin-pass")
        driver.find_element(By.CSS_SELECTOR, "form[action='/u/login'] button").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "form[action='/u/consent']"))
        listed = [code.text for code in driver.find_elements(By.CSS_SELECTOR, ".scopes li code")]
        check(listed == ["openid", "read:private"],
              f"the consent page lists the scopes the token will carry ({listed})", driver)
        shot("3-consent")

        # 4. Decline.
        driver.find_element(By.CSS_SELECTOR, "button[value='deny']").click()
        answer = redirected()
        check(answer.get("error") == "access_denied", f"declining gives access_denied ({answer})")
        check(answer.get("state") == state and answer.get("iss") == issuer,
              "the refusal carries state and iss")
        check("code" not in answer, "no code after declining")
        shot("4-declined")

        # 5. Again, the form filled by picking a demo user, and accept.
        verifier, state = authorize()
        driver.find_element(By.CSS_SELECTOR, ".users a[href*='admin%40example.com']").click()
        wait.until(lambda d: d.find_element(By.NAME, "password").get_attribute("value"))
        check(driver.find_element(By.NAME, "username").get_attribute("value") == "admin@example.com",
              "picking a demo user fills the form", driver)
        shot("5-picked-user")
        driver.find_element(By.CSS_SELECTOR, "form[action='/u/login'] button").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "form[action='/u/consent']"))
        listed = [code.text for code in driver.find_elements(By.CSS_SELECTOR, ".scopes li code")]
        driver.find_element(By.CSS_SELECTOR, "button[value='accept']").click()
        answer = redirected()
        check(bool(answer.get("code")), "accepting gives a code")
        check(answer.get("state") == state and answer.get("iss") == issuer,
              f"the code comes with state and iss ({answer.get('iss')!r})")
        shot("6-accepted")
        tokens = post_form(f"{issuer}oauth/token", {
            "grant_type": "authorization_code", "client_id": client_id, "code": answer["code"],
            "redirect_uri": redirect_uri, "code_verifier": verifier,
        })
        granted = claims_of(tokens["access_token"])["scope"].split()
        check(granted == listed, f"the token carries exactly what consent listed ({granted} = {listed})")

        # 6. Logout.
        driver.get(f"{issuer}v2/logout?client_id={client_id}")
        body = driver.find_element(By.TAG_NAME, "body").text
        check("logged out" in body, f"logout says so ({body!r})", driver)
        shot("7-logout")
    finally:
        driver.quit()
        callback.shutdown()
    print(f"browser: {PASSED} passed, 0 failed ({time.monotonic() - started:.1f}s, screenshots in {shots})")


if __name__ == "__main__":
    main()
