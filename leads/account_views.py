"""The account page: a company and the leads of it the user may see, with stage and owner."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from . import access, accounts
from .views import _paginate


@login_required
def account_detail(request, pk):
    account = get_object_or_404(access.visible_accounts(request.user), pk=pk)
    page = _paginate(request, accounts.account_leads(account, access.visible_leads(request.user)))
    return render(request, "leads/account_detail.html", {"account": account, "page": page, "leads": page.object_list})
