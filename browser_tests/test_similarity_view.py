"""The similarity report in Chromium: the side-by-side view of a flagged pair, on a laptop and a phone.

The class (four independent Adams, a planted copy, a blank notebook) is built from source strings as
tests/test_similarity.py builds it: nothing is graded here. ``browser_tests/screenshots/similarity-pair.png``
is kept on every run, to be looked at.
"""

import pytest

from conftest import ROOT, SCREENSHOTS


@pytest.fixture(scope="module")
def similarity_folder(tmp_path_factory):
    from test_similarity import _graded_class

    from mlpcore.autograde.similarity import similarity_report

    output = tmp_path_factory.mktemp("similarity")
    _graded_class(output)
    similarity_report(ROOT, output, "07-training", workers=1)
    return output / "similarity" / "07-training"


def test_the_index_links_a_side_by_side_view_of_the_flagged_pair(page, similarity_folder):
    """Does the flagged pair come first, and does its link open both answers side by side, the shared lines
    highlighted, nothing off screen?"""
    page.goto((similarity_folder / "index.html").as_uri())
    first = page.locator("#training-Adam_tests ~ table tbody tr").first
    assert "flagged" in first.inner_text() and "copier" in first.inner_text()
    first.get_by_role("link", name="side by side").click()
    page.wait_for_load_state()
    columns = page.locator(".sides > div")
    assert columns.count() == 2
    left, right = columns.nth(0).bounding_box(), columns.nth(1).bounding_box()
    assert left["x"] + left["width"] <= right["x"] and abs(left["y"] - right["y"]) < 2  # side by side
    for column in range(2):
        shared = columns.nth(column).locator("div.shared")
        assert shared.count() >= 10
        colour = shared.first.evaluate("e => getComputedStyle(e).backgroundColor")
        assert colour == "rgb(255, 224, 138)"
        assert "of the other answer" in shared.first.get_attribute("title")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # long lines wrap
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "similarity-pair.png"), full_page=True)


def test_on_a_phone_the_answers_stack(browser, similarity_folder):
    """On a phone, is one answer above the other, each as wide as the screen allows?"""
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    try:
        phone.goto((similarity_folder / "pairs" / "training-Adam_tests-1.html").as_uri())
        columns = phone.locator(".sides > div")
        top, bottom = columns.nth(0).bounding_box(), columns.nth(1).bounding_box()
        assert top["y"] + top["height"] <= bottom["y"]
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        phone.close()
