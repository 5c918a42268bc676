from csrisk.models import Notification
from csrisk.notifications import notify
from tests.conftest import login


def test_it_delivers_once_per_dedupe_key(org):
    assert notify(user=org.csm_a, kind="x", title="Hello", dedupe_key="k1") is not None
    assert notify(user=org.csm_a, kind="x", title="Hello", dedupe_key="k1") is None
    assert Notification.objects.count() == 1


def test_the_bell_counts_unread_and_the_list_marks_read(org):
    n = notify(
        user=org.csm_a,
        kind="override_expired",
        title="Acme: override expired",
        body="<b>not html</b>",
        url="/accounts/1/",
    )
    notify(user=org.csm_b, kind="x", title="Not yours")
    client = login(org.csm_a)
    html = client.get("/accounts/").content.decode()
    assert "Notifications, 1 unread" in html
    page = client.get("/notifications/").content.decode()
    assert "Acme: override expired" in page
    assert "Not yours" not in page
    assert "&lt;b&gt;not html&lt;/b&gt;" in page
    assert client.post("/notifications/read/", {"id": n.pk}).status_code == 302
    assert "Notifications, 0 unread" in client.get("/accounts/").content.decode()


def test_marking_read_touches_only_your_own(org):
    theirs = notify(user=org.csm_b, kind="x", title="Theirs")
    login(org.csm_a).post("/notifications/read/", {"id": theirs.pk})
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_and_htmx(org):
    for i in range(3):
        notify(user=org.csm_a, kind="x", title=f"N{i}")
    response = login(org.csm_a).post("/notifications/read/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    assert login(org.csm_a).get("/notifications/read/").status_code == 405
