"""Threads contending on Lock, RLock, Condition, Semaphore and queue.Queue.

Every printed number is fixed by the algorithm, not by the schedule, so a
native and a preloaded run must print the same lines.
"""
import queue
import threading

WORKERS = 8
ITEMS = 4000

lock = threading.Lock()
rlock = threading.RLock()
counter = 0
rcounter = 0


def bump(n):
    global counter, rcounter
    for _ in range(n):
        with lock:
            counter += 1
        with rlock:
            with rlock:  # re-entered
                rcounter += 2


# A bounded producer/consumer pipeline through queue.Queue (Condition inside).
def pipeline():
    q_in = queue.Queue(maxsize=16)
    q_out = queue.Queue()

    def worker():
        while True:
            item = q_in.get()
            if item is None:
                q_in.task_done()
                return
            q_out.put(item * item % 1000003)
            q_in.task_done()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for i in range(ITEMS * WORKERS):
        q_in.put(i)
    for _ in threads:
        q_in.put(None)
    q_in.join()
    for t in threads:
        t.join()
    total = 0
    while not q_out.empty():
        total += q_out.get()
    return total


# A Condition-guarded ticket turnstile: each thread waits for its turn.
def turnstile(rounds):
    cond = threading.Condition()
    turn = [0]
    order = []

    def player(me):
        for r in range(rounds):
            with cond:
                cond.wait_for(lambda: turn[0] % WORKERS == me)
                order.append(me)
                turn[0] += 1
                cond.notify_all()

    threads = [threading.Thread(target=player, args=(i,)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return order == [i % WORKERS for i in range(rounds * WORKERS)], len(order)


# A Semaphore bounding concurrency: never more than 3 inside.
def bounded(limit=3):
    sem = threading.BoundedSemaphore(limit)
    inside = [0]
    worst = [0]
    guard = threading.Lock()

    def visitor():
        for _ in range(500):
            with sem:
                with guard:
                    inside[0] += 1
                    worst[0] = max(worst[0], inside[0])
                with guard:
                    inside[0] -= 1

    threads = [threading.Thread(target=visitor) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return worst[0] <= limit, inside[0]


threads = [threading.Thread(target=bump, args=(ITEMS,)) for _ in range(WORKERS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("lock counter", counter, "rlock counter", rcounter)
expected = sum(i * i % 1000003 for i in range(ITEMS * WORKERS))
total = pipeline()
print("queue pipeline total", total, "correct", total == expected)
print("condition turnstile in order, turns", *turnstile(200))
print("semaphore bound kept, left inside", *bounded())
assert counter == ITEMS * WORKERS and rcounter == 2 * ITEMS * WORKERS and total == expected
