// The bitstream itself on a pseudo-terminal: the Verilated netlist that
// `icebox_vlog` reads back from `bloomtime.asc` (module `chip`, the
// Alchitry Cu's pins), clocked at the oscillator, with an 8N1 serial line
// on `uart_rx` / `uart_tx` whose other end is a pty that the host CLI opens
// like the board's USB UART (`scripts/bitstream-sim.sh`).
//
//   bitstream-board LINK BIT_CYCLES
//
// LINK becomes a symlink to the pty's slave side; its path is printed on
// stdout once the board runs. BIT_CYCLES is the oscillator clocks a bit
// lasts (the board's UART divisor times its clock divider). The line model
// is the virtual board's (sim/src/board.rs): host bytes go out back to back,
// each bit held BIT_CYCLES clocks; the board's bytes are sampled at their
// bits' centres from the falling edge of the start bit, and a low stop bit
// is counted as a framing error. The clock runs while either line is busy,
// while LED 6 (flush or clear running) is lit, and for GRACE clocks after;
// then the harness sleeps until the host writes.

#include "Vchip.h"
#include "verilated.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

static const uint64_t GRACE = 1u << 20;
static const uint64_t SLICE = 1u << 11;
static const unsigned LED_BUSY = 1u << 6;

static volatile sig_atomic_t stop = 0;
static void on_signal(int) { stop = 1; }

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s LINK BIT_CYCLES\n", argv[0]);
        return 2;
    }
    const char* link = argv[1];
    const uint64_t bit = strtoull(argv[2], nullptr, 10);
    if (bit < 4) {
        fprintf(stderr, "bitstream-board: BIT_CYCLES %s: at least 4\n", argv[2]);
        return 2;
    }
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) || unlockpt(master)) {
        perror("bitstream-board: pty");
        return 1;
    }
    const char* slave_name = ptsname(master);
    // Raw mode on the slave, held open so the master never sees a hang-up
    // between the host's sessions.
    int slave = open(slave_name, O_RDWR | O_NOCTTY);
    struct termios t;
    if (slave < 0 || tcgetattr(slave, &t)) {
        perror("bitstream-board: slave");
        return 1;
    }
    cfmakeraw(&t);
    tcsetattr(slave, TCSANOW, &t);
    fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
    unlink(link);
    if (symlink(slave_name, link)) {
        perror("bitstream-board: symlink");
        return 1;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    VerilatedContext ctx;
    Vchip chip(&ctx);
    chip.reset_n = 1;
    chip.uart_rx = 1;
    chip.clock = 0;
    chip.eval();
    printf("%s\n", slave_name);
    fflush(stdout);

    std::deque<uint8_t> queue;   // host bytes not yet on the line
    uint16_t frame = 0;          // the character on uart_rx, LSB first
    int tx_bit = 10;             // its bit (10: idle)
    uint64_t tx_left = 0;        // clocks left of that bit
    int rx_bit = -1;             // the board's character: bit being sampled (-1: idle)
    uint64_t rx_wait = 0;        // clocks to that bit's centre
    uint8_t rx_byte = 0;
    bool rx_ready = true;        // the line was high since the last stop bit
    uint64_t quiet = GRACE;      // clocks since the last activity
    uint64_t cycles = 0, bytes_in = 0, bytes_out = 0, framing = 0;
    uint8_t buf[4096];

    // Nothing on either line, no flush or clear running, the grace over.
    auto idle = [&] {
        return queue.empty() && tx_bit == 10 && rx_bit < 0 && quiet >= GRACE &&
               !(chip.leds & LED_BUSY);
    };
    while (!stop) {
        struct pollfd p = {master, POLLIN, 0};
        if (poll(&p, 1, idle() ? 200 : 0) > 0 && (p.revents & POLLIN)) {
            ssize_t n = read(master, buf, sizeof buf);
            for (ssize_t i = 0; i < n; i++) queue.push_back(buf[i]);
            if (n > 0) bytes_in += n;
        }
        if (idle()) continue;
        std::string out;
        for (uint64_t c = 0; c < SLICE; c++) {
            if (tx_bit == 10 && !queue.empty()) {
                frame = (uint16_t)(queue.front() << 1) | (1u << 9);
                queue.pop_front();
                tx_bit = 0;
                tx_left = bit;
            }
            chip.uart_rx = tx_bit == 10 ? 1 : (frame >> tx_bit) & 1;
            chip.clock = 1;
            chip.eval();
            chip.clock = 0;
            chip.eval();
            cycles++;
            quiet++;
            if (tx_bit < 10) {
                quiet = 0;
                if (--tx_left == 0) {
                    tx_bit++;
                    tx_left = bit;
                }
            }
            const bool line = chip.uart_tx;
            if (rx_bit < 0) {
                if (line) rx_ready = true;
                else if (rx_ready) {
                    rx_bit = 0;
                    rx_wait = bit / 2;
                    rx_byte = 0;
                }
            } else if (--rx_wait == 0) {
                quiet = 0;
                if (rx_bit >= 1 && rx_bit <= 8) rx_byte |= (uint8_t)line << (rx_bit - 1);
                if (rx_bit == 9) {
                    if (line) {
                        out.push_back((char)rx_byte);
                    } else {
                        framing++;
                        rx_ready = false;
                    }
                    rx_bit = -1;
                } else {
                    rx_bit++;
                    rx_wait = bit;
                }
            }
        }
        for (size_t done = 0; done < out.size();) {
            ssize_t n = write(master, out.data() + done, out.size() - done);
            if (n > 0) {
                done += n;
                bytes_out += n;
            } else if (errno != EAGAIN) {
                break;
            } else {
                struct pollfd w = {master, POLLOUT, 0};
                poll(&w, 1, 100);
            }
        }
    }
    unlink(link);
    fprintf(stderr,
            "bitstream-board: %llu oscillator clocks, %llu bytes in, %llu out, %llu framing errors\n",
            (unsigned long long)cycles, (unsigned long long)bytes_in,
            (unsigned long long)bytes_out, (unsigned long long)framing);
    return 0;
}
