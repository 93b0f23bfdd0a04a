/* This stage-4 server: c-html-only's design, with the Content-Type right, but it
 * does not compile: a semicolon is missing after `busy--` in client(). She
 * changed it after the last build, and submitted.
 *
 *     cc -O2 -Wall -pthread -o server server.c && ./server PORT ROOT
 *
 * Expected: the build fails, with the compiler's error in the feedback.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char root[PATH_MAX];
static volatile sig_atomic_t stopping = 0;
static int busy = 0;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void on_interrupt(int sig) { (void)sig; stopping = 1; }

static int send_all(int fd, const char *data, size_t len) {
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static void reply_text(int fd, const char *status, const char *body) {
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %s\r\nContent-Type: text/html\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                     status, strlen(body));
    if (send_all(fd, head, (size_t)n) == 0) send_all(fd, body, strlen(body));
}

static const char *type_of(const char *path) {
    const char *dot = strrchr(path, '.');
    if (dot && strcmp(dot, ".html") == 0) return "text/html";
    if (dot && strcmp(dot, ".css") == 0) return "text/css";
    if (dot && strcmp(dot, ".png") == 0) return "image/png";
    if (dot && strcmp(dot, ".txt") == 0) return "text/plain";
    return "application/octet-stream";
}

/* Sends the file at `path` with `status`; -1 if it cannot be opened. */
static int reply_file(int fd, const char *status, const char *path) {
    int file = open(path, O_RDONLY);
    struct stat st;
    if (file < 0 || fstat(file, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (file >= 0) close(file);
        return -1;
    }
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %lld\r\nConnection: close\r\n\r\n",
                     status, type_of(path), (long long)st.st_size);
    if (send_all(fd, head, (size_t)n) == 0) {
        char buf[65536];
        ssize_t got;
        while ((got = read(file, buf, sizeof buf)) > 0)
            if (send_all(fd, buf, (size_t)got) < 0) break;
    }
    close(file);
    return 0;
}

static void not_found(int fd) {
    char page[PATH_MAX + 16];
    snprintf(page, sizeof page, "%s/error.html", root);
    if (reply_file(fd, "404 Not Found", page) < 0) reply_text(fd, "404 Not Found", "<h1>404</h1>\n");
}

/* Reads until the blank line that ends the head; its length, or -1. */
static int read_head(int fd, char *buf, size_t size) {
    size_t have = 0;
    while (have + 1 < size) {
        ssize_t n = recv(fd, buf + have, size - 1 - have, 0);
        if (n <= 0) return -1;
        have += (size_t)n;
        buf[have] = '\0';
        if (strstr(buf, "\r\n\r\n")) return (int)have;
    }
    return -1;
}

/* Whether the header lines after the request line are well formed. */
static int headers_ok(char *lines, int http11) {
    int hosts = 0;
    for (char *line = strtok(lines, "\r\n"); line; line = strtok(NULL, "\r\n")) {
        char *colon = strchr(line, ':');
        if (!colon || colon == line || colon[-1] == ' ' || colon[-1] == '\t') return 0;
        if (colon - line == 4 && strncasecmp(line, "host", 4) == 0) hosts++;
        if (colon - line == 14 && strncasecmp(line, "content-length", 14) == 0) {
            char *v = colon + 1;
            while (*v == ' ') v++;
            if (!*v) return 0;
            for (; *v && *v != ' '; v++)
                if (!isdigit((unsigned char)*v)) return 0;
        }
    }
    return !http11 || hosts == 1;
}

/* Decodes %XX in place; -1 for a bad escape or a NUL. */
static int decode(char *s) {
    char *out = s;
    for (; *s; s++) {
        if (*s == '%') {
            if (!isxdigit((unsigned char)s[1]) || !isxdigit((unsigned char)s[2])) return -1;
            char hex[3] = {s[1], s[2], 0};
            *out = (char)strtol(hex, NULL, 16);
            if (*out == '\0') return -1;
            out++;
            s += 2;
        } else {
            *out++ = *s;
        }
    }
    *out = '\0';
    return 0;
}

static void serve(int fd) {
    char buf[16384];
    if (read_head(fd, buf, sizeof buf) < 0) return;
    char *end = strstr(buf, "\r\n");
    *end = '\0';
    char method[16], target[8192], version[16], extra[2];
    if (sscanf(buf, "%15s %8191s %15s %1s", method, target, version, extra) != 3 || target[0] != '/' ||
        (strcmp(version, "HTTP/1.1") != 0 && strcmp(version, "HTTP/1.0") != 0) ||
        !headers_ok(end + 2, strcmp(version, "HTTP/1.1") == 0)) {
        reply_text(fd, "400 Bad Request", "<h1>400 Bad Request</h1>\n");
        return;
    }
    char *query = strchr(target, '?');
    if (query) *query = '\0';
    if (decode(target) < 0 || strstr(target, "\\") || strstr(target, "/../") ||
        (strlen(target) >= 3 && strcmp(target + strlen(target) - 3, "/..") == 0)) {
        reply_text(fd, "400 Bad Request", "<h1>400 Bad Request</h1>\n");
        return;
    }
    char path[PATH_MAX + sizeof target + 16];
    snprintf(path, sizeof path, "%s%s", root, target);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) strncat(path, "/index.html", sizeof path - strlen(path) - 1);
    if (reply_file(fd, "200 OK", path) < 0) not_found(fd);
}

static void *client(void *arg) {
    int fd = (int)(long)arg;
    struct timeval limit = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    serve(fd);
    close(fd);
    pthread_mutex_lock(&lock);
    busy--
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3 || !realpath(argv[2], root)) {
        fprintf(stderr, "usage: %s PORT ROOT\n", argv[0]);
        return 2;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_interrupt; /* no SA_RESTART: accept returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listener, 128) < 0) {
        perror("listen");
        return 1;
    }
    while (!stopping) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) continue;
        pthread_t thread;
        pthread_mutex_lock(&lock);
        busy++;
        pthread_mutex_unlock(&lock);
        /* The worker starts with SIGINT blocked, so that Ctrl-C always lands
         * on this thread, in accept(), and never on a worker mid-send. */
        sigset_t interrupt, old;
        sigemptyset(&interrupt);
        sigaddset(&interrupt, SIGINT);
        pthread_sigmask(SIG_BLOCK, &interrupt, &old);
        int failed = pthread_create(&thread, NULL, client, (void *)(long)fd);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (failed) {
            close(fd);
            pthread_mutex_lock(&lock);
            busy--;
            pthread_mutex_unlock(&lock);
            continue;
        }
        pthread_detach(thread);
    }
    close(listener);
    /* Let the downloads under way finish, for 5 s at most. */
    for (int waited = 0; waited < 500; waited++) {
        pthread_mutex_lock(&lock);
        int left = busy;
        pthread_mutex_unlock(&lock);
        if (left == 0) break;
        struct timespec tick = {0, 10 * 1000 * 1000};
        nanosleep(&tick, NULL);
    }
    return 0;
}
