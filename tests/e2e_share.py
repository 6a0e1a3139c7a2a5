#!/usr/bin/python3
"""e2e_share.py — tests/e2e_share.sh's independent reckoning of a STIX bundle.

  e2e_share.py expect QUERY.json ALLOW   what `canhgac share` must put in a
        bundle of the incidents of `canhgac query --json` (one per line) under
        a policy allowing ALLOW (1 internal addresses, 2 agency names, 4
        payloads), as README "Sharing (STIX 2.1)" says it, reckoned here from
        the query's fields with Python's own ipaddress module
  e2e_share.py got BUNDLE.json           the same counts, read from a bundle
  e2e_share.py internal QUERY.json       the internal addresses of the incidents

Both print one line: incidents, observed-data, indicators, sightings,
relationships and observables (SCOs), each "name=N".
"""
import ipaddress
import json
import sys

INTERNAL_NETS = [ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16",
    "0.0.0.0/8", "::1/128", "::/128", "fc00::/7", "fe80::/10")]


def internal(addr, geo):
    a = ipaddress.ip_address(addr)
    return any(a in n for n in INTERNAL_NETS) or bool(geo.get("agency")) or bool(geo.get("zone"))


def host_of(h):
    """(domain, address literal) of a Host header."""
    if not h:
        return None, None
    if h.startswith("["):
        h = h[1:h.find("]")] if "]" in h else ""
    elif h.count(":") == 1:
        h = h.split(":")[0]
    try:
        return None, ipaddress.ip_address(h)
    except ValueError:
        return (h or None), None


def expect(path, allow):
    scos, indicators = set(), set()
    n = od = sightings = 0
    for line in open(path, encoding="utf-8"):
        i = json.loads(line)
        n += 1
        mine_sco, mine_ind = set(), set()
        src_in = internal(i["src_ip"], i["src_geo"])
        dst_in = internal(i["dest_ip"], i["dest_geo"])
        for addr, inside in ((i["src_ip"], src_in), (i["dest_ip"], dst_in)):
            if not inside or allow & 1:
                mine_sco.add(("addr", addr))
                if not inside:
                    mine_ind.add(("addr", addr))
        if (not src_in or allow & 1) or (not dst_in or allow & 1):
            mine_sco.add(("traffic", i["incident_id"]))  # one each in the sample (distinct ports)
        q = i.get("dns", {}).get("rrname", "")
        if q and host_of(q)[1] is not None:
            q = ""  # an address literal is no domain
        if q and (not q.endswith((".in-addr.arpa", ".ip6.arpa")) or allow & 1):
            mine_sco.add(("domain", q))
            mine_ind.add(("domain", q))
        http = i.get("http", {})
        dom, lit = host_of(http.get("hostname", ""))
        url_host = None
        if dom:
            mine_sco.add(("domain", dom))
            if not dst_in:
                mine_ind.add(("domain", dom))
            url_host = http["hostname"]
        elif lit is not None and (not internal(str(lit), i["dest_geo"]) or allow & 1):
            url_host = http["hostname"]
        sni = i.get("tls", {}).get("sni", "")
        if sni and host_of(sni)[1] is not None:
            sni = ""
        if sni and sni != (dom or ""):
            mine_sco.add(("domain", sni))
            if not dst_in:
                mine_ind.add(("domain", sni))
        if allow & 4 and url_host and http.get("url"):
            u = ("https" if i["dest_port"] == 443 else "http") + "://" + url_host + \
                (http["url"] if http["url"].startswith("/") else "/")
            mine_sco.add(("url", u))
            mine_ind.add(("url", u))
        scos |= mine_sco
        indicators |= mine_ind
        od += 1 if mine_sco else 0
        sightings += len(mine_ind)
    return dict(incidents=n, observed=od, indicators=len(indicators), sightings=sightings,
                relationships=sightings + od, observables=len(scos))


def internals(path):
    """The internal addresses of the query's incidents, one a line."""
    out = set()
    for line in open(path, encoding="utf-8"):
        i = json.loads(line)
        for addr, geo in ((i["src_ip"], i["src_geo"]), (i["dest_ip"], i["dest_geo"])):
            if internal(addr, geo):
                out.add(addr)
    return sorted(out)


def got(path):
    objs = json.load(open(path, encoding="utf-8"))["objects"]
    c = lambda *t: sum(o["type"] in t for o in objs)
    return dict(incidents=c("incident"), observed=c("observed-data"), indicators=c("indicator"),
                sightings=c("sighting"), relationships=c("relationship"),
                observables=c("ipv4-addr", "ipv6-addr", "domain-name", "url", "network-traffic"))


def main():
    if sys.argv[1] == "internal":
        print("\n".join(internals(sys.argv[2])))
        return
    r = expect(sys.argv[2], int(sys.argv[3])) if sys.argv[1] == "expect" else got(sys.argv[2])
    print(" ".join(f"{k}={v}" for k, v in r.items()))


if __name__ == "__main__":
    main()
