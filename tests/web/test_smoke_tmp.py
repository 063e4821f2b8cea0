from playwright.sync_api import Page
from tests.web.conftest import sign_in, screenshot

def test_smoke(page: Page, base_url: str) -> None:
    sign_in(page)
    page.get_by_role("link", name="[demo] Launch campaign").click()
    page.locator("[data-testid=chart][data-drawn]").wait_for()
    screenshot(page, "smoke")
    print(page.locator("[data-testid=chart]").get_attribute("data-drawn"))
