#!/usr/bin/python3
"""Prints the top contended call-sites from one scrape of the preload's
endpoint (PARKLOCK_METRICS), with the waiting each holder site caused, and,
given the engine's /metrics, its time to first token and inter-token latency
beside them. Parses with prometheus_client (Debian: python3-prometheus-client).

usage: top_sites.py --parklock http://127.0.0.1:9464/metrics [--engine URL/metrics] [--top N]"""
import argparse
import collections
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def scrape(url):
    """{(metric sample name, frozenset of labels): value} from one scrape."""
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def by_labels(samples, name, keys):
    """{tuple of the `keys` labels: value} of the samples called `name`."""
    values = collections.defaultdict(float)
    for (sample, labels), value in samples.items():
        if sample == name:
            labels = dict(labels)
            values[tuple(labels.get(key, "") for key in keys)] += value
    return values


def print_sites(samples, top):
    keys = ("site", "lock", "kind")
    counts = by_labels(samples, "parklock_lock_wait_seconds_count", keys)
    sums = by_labels(samples, "parklock_lock_wait_seconds_sum", keys)
    rows = sorted(sums.items(), key=lambda item: item[1], reverse=True)[:top]
    print(f"{'waits':>9} {'wait s':>9} {'mean ms':>9}  {'lock':<22} {'kind':<12} site")
    for key, total in rows:
        count = counts.get(key, 0)
        mean_ms = 1000 * total / count if count else 0
        site, lock, kind = key
        print(f"{int(count):>9} {total:>9.3f} {mean_ms:>9.3f}  {lock:<22} {kind:<12} {site}")
    holders = by_labels(samples, "parklock_lock_holder_wait_seconds_total", ("holder_site", "lock", "kind"))
    print(f"\n{'caused s':>9}  {'lock':<22} {'kind':<12} holder site (waiting it caused, weighted by waiters)")
    for (site, lock, kind), caused in sorted(holders.items(), key=lambda item: item[1], reverse=True)[:top]:
        print(f"{caused:>9.3f}  {lock:<22} {kind:<12} {site}")
    named = by_labels(samples, "parklock_lock_acquisitions_total", ("lock", "kind"))
    if named:
        print(f"\n{'acquired':>9}  named lock")
        for (lock, kind), count in sorted(named.items(), key=lambda item: item[1], reverse=True)[:top]:
            print(f"{int(count):>9}  {lock} ({kind})")


def print_engine(samples):
    def mean_ms(histogram):
        count = sum(by_labels(samples, histogram + "_count", ()).values())
        total = sum(by_labels(samples, histogram + "_sum", ()).values())
        return (1000 * total / count if count else float("nan")), int(count)

    for title, histogram in (("time to first token", "parklock_engine_time_to_first_token_seconds"),
                             ("inter-token latency", "parklock_engine_inter_token_latency_seconds")):
        mean, count = mean_ms(histogram)
        print(f"engine {title}: mean {mean:.2f} ms over {count}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parklock", required=True, help="the preload's metrics URL")
    parser.add_argument("--engine", help="the engine's metrics URL")
    parser.add_argument("--top", type=int, default=8)
    args = parser.parse_args()
    print(f"Top contended call-sites, from a scrape of {args.parklock}:")
    print_sites(scrape(args.parklock), args.top)
    if args.engine:
        print(f"\nBeside them, from a scrape of {args.engine}:")
        print_engine(scrape(args.engine))


if __name__ == "__main__":
    main()
