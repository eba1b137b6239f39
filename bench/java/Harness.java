// SPDX-License-Identifier: GPL-2.0 OR MIT
//
// LMAX Disruptor (Debian's libdisruptor-java) in the same shapes as
// bench/bb_topo.c and bench/bb_lat.c: the five topologies built from
// BatchEventProcessors and barriers the way LMAX's own perf tests build
// them, and a ping-pong round trip over two rings. Prints the same JSON
// lines as the C programs. The first repetition warms the JIT up and is
// not reported. Worker threads are pinned as the C programs pin theirs
// (producers from CPU 0, consumers from CPU 1, round-robin), unless
// BENCH_NOPIN is set.
//
//   java -cp disruptor.jar:. Harness topo TOPO WAIT SIZE SLOTS BATCH EVENTS REPS
//   java -cp disruptor.jar:. Harness pingpong WAIT ROUNDS REPS

import com.lmax.disruptor.BatchEventProcessor;
import com.lmax.disruptor.BlockingWaitStrategy;
import com.lmax.disruptor.BusySpinWaitStrategy;
import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.LiteBlockingWaitStrategy;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.Sequence;
import com.lmax.disruptor.SequenceBarrier;
import com.lmax.disruptor.SleepingWaitStrategy;
import com.lmax.disruptor.WaitStrategy;
import com.lmax.disruptor.YieldingWaitStrategy;
import java.nio.file.Files;
import java.nio.file.Path;

import java.util.Arrays;
import java.util.concurrent.CountDownLatch;

public final class Harness {
    static final class Event {
        long value;
        final byte[] payload;

        Event(int size) {
            payload = size > 8 ? new byte[size - 8] : null;
        }
    }

    static WaitStrategy strategy(String name) {
        switch (name) {
        case "spin": return new BusySpinWaitStrategy();
        case "yield": return new YieldingWaitStrategy();
        case "sleep": return new SleepingWaitStrategy();
        case "block": return new LiteBlockingWaitStrategy();
        case "blocking": return new BlockingWaitStrategy();
        default: throw new IllegalArgumentException(name);
        }
    }

    static final class Handler implements EventHandler<Event> {
        final long last;
        final CountDownLatch done;
        long sum;
        volatile long endNs;

        Handler(long last, CountDownLatch done) {
            this.last = last;
            this.done = done;
        }

        @Override
        public void onEvent(Event e, long seq, boolean endOfBatch) {
            sum += e.value;
            if (e.payload != null)
                sum += e.payload[e.payload.length - 1];
            if (seq == last) {
                endNs = System.nanoTime();
                done.countDown();
            }
        }
    }

    /*
     * Pin the calling thread to one CPU. Java has no affinity call: the
     * thread takes a name no other has, finds its kernel thread id under
     * /proc/self/task by that name, and has taskset pin that id.
     */
    static void pin(int cpu) {
        if (System.getenv("BENCH_NOPIN") != null)
            return;
        int ncpu = Runtime.getRuntime().availableProcessors();
        String name = "bbpin" + Thread.currentThread().getId();
        Thread.currentThread().setName(name);
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                if (!Files.readString(t.resolve("comm")).trim().equals(name))
                    continue;
                new ProcessBuilder("taskset", "-p", "-c", String.valueOf(cpu % ncpu),
                        t.getFileName().toString()).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
                return;
            }
        } catch (Exception e) {
            // Not fatal, as in the C programs.
        }
    }

    static String env() {
        String e = System.getenv("BENCH_ENV");
        return e == null ? "native" : e;
    }

    static void emit(String suite, String params, String metric, double v, String unit) {
        System.out.printf("{\"suite\":\"%s\",\"impl\":\"lmax\",\"env\":\"%s\",\"params\":{%s},"
                + "\"metric\":\"%s\",\"value\":%.6g,\"unit\":\"%s\"}%n",
                suite, env(), params, metric, v, unit);
        System.out.flush();
    }

    // One run of a topology; returns events per second.
    static double topo(String topo, String wait, int size, int slots, int batch, long events)
            throws Exception {
        int nprod = topo.equals("sequencer") ? 3 : 1;
        int ncons = topo.equals("unicast") || topo.equals("sequencer") ? 1 : 3;
        events -= events % nprod;
        final long total = events;
        RingBuffer<Event> rb = nprod > 1
                ? RingBuffer.createMultiProducer(() -> new Event(size), slots, strategy(wait))
                : RingBuffer.createSingleProducer(() -> new Event(size), slots, strategy(wait));
        BatchEventProcessor<?>[] procs = new BatchEventProcessor<?>[ncons];
        Handler[] handlers = new Handler[ncons];
        boolean[] gating = new boolean[ncons];
        for (int i = 0; i < ncons; i++) {
            SequenceBarrier b;
            if (topo.equals("pipeline") && i > 0) {
                b = rb.newBarrier(procs[i - 1].getSequence());
                gating[i - 1] = false;
            } else if (topo.equals("diamond") && i == 2) {
                b = rb.newBarrier(procs[0].getSequence(), procs[1].getSequence());
                gating[0] = gating[1] = false;
            } else {
                b = rb.newBarrier();
            }
            gating[i] = true;
            handlers[i] = new Handler(total - 1, new CountDownLatch(1));
            procs[i] = new BatchEventProcessor<>(rb, b, handlers[i]);
        }
        for (int i = 0; i < ncons; i++)
            if (gating[i])
                rb.addGatingSequences(procs[i].getSequence());
        Thread[] threads = new Thread[ncons + nprod];
        for (int i = 0; i < ncons; i++) {
            final BatchEventProcessor<?> proc = procs[i];
            final int cpu = i + 1;
            threads[i] = new Thread(() -> {
                pin(cpu);
                proc.run();
            });
            threads[i].start();
        }
        final byte[] src = new byte[Math.max(size - 8, 0)];
        Arrays.fill(src, (byte) 0xa5);
        final CountDownLatch go = new CountDownLatch(1);
        for (int j = 0; j < nprod; j++) {
            final long n = total / nprod;
            final int cpu = j;
            threads[ncons + j] = new Thread(() -> {
                pin(cpu);
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                long i = 0;
                while (i < n) {
                    int b = (int) Math.min(batch, n - i);
                    long hi = rb.next(b);
                    long lo = hi - b + 1;
                    for (long s = lo; s <= hi; s++) {
                        Event e = rb.get(s);
                        e.value = i + (s - lo);
                        if (e.payload != null)
                            System.arraycopy(src, 0, e.payload, 0, src.length);
                    }
                    if (b == 1)
                        rb.publish(hi);
                    else
                        rb.publish(lo, hi);
                    i += b;
                }
            });
            threads[ncons + j].start();
        }
        // Let the processors reach their wait loops, as LMAX's tests do.
        for (BatchEventProcessor<?> p : procs)
            while (!p.isRunning())
                Thread.yield();
        long t0 = System.nanoTime();
        go.countDown();
        // The sinks (stages nobody follows) see the last event last.
        long end = 0;
        for (int i = 0; i < ncons; i++)
            if (gating[i]) {
                handlers[i].done.await();
                end = Math.max(end, handlers[i].endNs);
            }
        for (BatchEventProcessor<?> p : procs)
            p.halt();
        for (Thread t : threads)
            t.join();
        return total / ((end - t0) / 1e9);
    }

    // Ping-pong round trips over two single-producer rings, polled with
    // barriers (no handler threads): one thread each side.
    static double[] pingpong(String wait, int rounds) throws Exception {
        RingBuffer<Event> a = RingBuffer.createSingleProducer(() -> new Event(8), 1024, strategy(wait));
        RingBuffer<Event> b = RingBuffer.createSingleProducer(() -> new Event(8), 1024, strategy(wait));
        SequenceBarrier ba = a.newBarrier(), bb = b.newBarrier();
        Sequence sa = new Sequence(-1), sb = new Sequence(-1);
        a.addGatingSequences(sa);
        b.addGatingSequences(sb);
        double[] rtt = new double[rounds];
        Thread ponger = new Thread(() -> {
            try {
                for (long i = 0; i < rounds; i++) {
                    ba.waitFor(i);
                    long v = a.get(i).value;
                    sa.set(i);
                    long s = b.next();
                    b.get(s).value = v;
                    b.publish(s);
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        ponger.start();
        for (long i = 0; i < rounds; i++) {
            long t = System.nanoTime();
            long s = a.next();
            a.get(s).value = t;
            a.publish(s);
            bb.waitFor(i);
            sb.set(i);
            rtt[(int) i] = System.nanoTime() - t;
        }
        ponger.join();
        return rtt;
    }

    static double q(double[] v, double p) {
        int i = (int) (p * (v.length - 1) + 0.5);
        return v[Math.min(i, v.length - 1)];
    }

    public static void main(String[] args) throws Exception {
        if (args.length >= 8 && args[0].equals("topo")) {
            String topo = args[1], wait = args[2];
            int size = Integer.parseInt(args[3]), slots = Integer.parseInt(args[4]);
            int batch = Integer.parseInt(args[5]);
            long events = Long.parseLong(args[6]);
            int reps = Integer.parseInt(args[7]);
            long ev = events - events % (topo.equals("sequencer") ? 3 : 1);
            String params = String.format("\"topology\":\"%s\",\"ring\":\"java\",\"mode\":\"thread\","
                    + "\"wait\":\"%s\",\"size\":%d,\"slots\":%d,\"batch\":%d,\"path\":\"fast\","
                    + "\"events\":%d", topo, wait, size, slots, batch, ev);
            for (int r = 0; r <= reps; r++) {
                double ops = topo(topo, wait, size, slots, batch, events);
                if (r > 0)
                    emit("throughput", params, "ops", ops, "ops/s");
            }
        } else if (args.length >= 4 && args[0].equals("pingpong")) {
            String wait = args[1];
            int rounds = Integer.parseInt(args[2]), reps = Integer.parseInt(args[3]);
            String params = String.format("\"kind\":\"pingpong\",\"ring\":\"java\",\"mode\":\"thread\","
                    + "\"wait\":\"%s\",\"size\":8", wait);
            for (int r = 0; r <= reps; r++) {
                double[] rtt = pingpong(wait, rounds);
                if (r == 0)
                    continue;
                Arrays.sort(rtt);
                double sum = 0;
                for (double x : rtt)
                    sum += x;
                emit("latency", params, "p50", q(rtt, 0.5), "ns");
                emit("latency", params, "p99", q(rtt, 0.99), "ns");
                emit("latency", params, "p99.9", q(rtt, 0.999), "ns");
                emit("latency", params, "max", rtt[rtt.length - 1], "ns");
                emit("latency", params, "mean", sum / rtt.length, "ns");
            }
        } else {
            System.err.println("usage: Harness topo TOPO WAIT SIZE SLOTS BATCH EVENTS REPS"
                    + " | pingpong WAIT ROUNDS REPS");
            System.exit(2);
        }
        System.exit(0);
    }
}
