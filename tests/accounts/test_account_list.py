import pytest

from tests.conftest import login
from tests.factories import AccountFactory, ContactFactory


def test_it_lists_accounts_with_their_owner_and_team(org, account_a, account_b):
    response = login(org.csm_a).get("/accounts/")
    assert response.status_code == 200
    assert b"Alpha Inc" in response.content
    assert b"Beta LLC" in response.content
    assert b"2 accounts" in response.content


def test_it_answers_htmx_with_the_table_fragment_only(org, account_a):
    response = login(org.csm_a).get("/accounts/?q=alpha", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b"Alpha Inc" in response.content
    assert "HX-Request" in response["Vary"]


def test_it_filters_by_search_segment_team_owner_and_renewal(org, account_a, account_b):
    client = login(org.csm_a)
    assert b"Beta LLC" not in client.get("/accounts/?q=alp").content
    assert b"Alpha Inc" not in client.get(f"/accounts/?team={org.team_b.pk}").content
    assert b"Beta LLC" not in client.get(f"/accounts/?owner={org.csm_a.pk}").content
    assert b"No accounts match" in client.get("/accounts/?renewal_window=30").content
    assert b"No accounts match" in client.get("/accounts/?segment=smb").content


def test_it_sorts_by_arr_and_renewal(org):
    AccountFactory(owner=org.csm_a, name="Small", arr=10)
    AccountFactory(owner=org.csm_a, name="Big", arr=1_000_000)
    content = login(org.csm_a).get("/accounts/?sort=-arr").content.decode()
    assert content.index("Big") < content.index("Small")
    content = login(org.csm_a).get("/accounts/?sort=arr").content.decode()
    assert content.index("Small") < content.index("Big")


def test_it_ignores_an_unknown_sort_and_bad_page(org, account_a):
    response = login(org.csm_a).get("/accounts/?sort=drop+table&page=abc&per_page=x")
    assert response.status_code == 200
    assert b"Alpha Inc" in response.content


def test_it_says_which_filter_it_did_not_understand(org, account_a):
    response = login(org.csm_a).get("/accounts/?segment=planets")
    assert response.status_code == 200
    assert b"Some filters were not understood" in response.content


def test_it_paginates(org):
    AccountFactory.create_batch(30, owner=org.csm_a)
    content = login(org.csm_a).get("/accounts/?per_page=25").content
    assert b"Page 1 of 2" in content
    assert login(org.csm_a).get("/accounts/?per_page=25&page=2").status_code == 200


@pytest.mark.parametrize("n", [5, 60])
def test_it_renders_a_page_in_a_constant_number_of_queries(org, n, django_assert_max_num_queries):
    for account in AccountFactory.create_batch(n, owner=org.csm_a):
        ContactFactory(account=account)
    client = login(org.csm_a)
    # session + user, count, page, team and owner filter choices
    with django_assert_max_num_queries(7):
        client.get("/accounts/?per_page=100")
    with django_assert_max_num_queries(5):
        client.get("/accounts/?per_page=100", HTTP_HX_REQUEST="true")


def test_it_refuses_post(org):
    assert login(org.csm_a).post("/accounts/").status_code == 405


def test_it_leaves_churned_customers_out_unless_asked(org, account_a):
    AccountFactory(owner=org.csm_a, name="Gone Ltd", lifecycle_stage="churned")
    client = login(org.csm_a)
    assert b"Gone Ltd" not in client.get("/accounts/").content
    assert b"Gone Ltd" in client.get("/accounts/?status=churned").content
    content = client.get("/accounts/?status=all").content
    assert b"Gone Ltd" in content
    assert b"Alpha Inc" in content


def test_it_reads_an_empty_choice_as_no_filter(org, account_a, account_b):
    content = login(org.csm_a).get("/accounts/?q=&segment=&team=&owner=&renewal_window=").content
    assert b"not understood" not in content
    assert b"2 accounts" in content
