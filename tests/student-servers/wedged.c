/*
 * A single-threaded file server in C that is wedged for good by a client
 * that connects and hangs up without a word.
 *
 *     sh tests/student-servers/cc.sh wedged.c PORT ROOT
 *
 * It reads the request head until its blank line, as it should, but checks
 * recv only for an error:
 *
 *     ssize_t n = recv(client, head + len, MAX_HEAD - len, 0);
 *     if (n < 0) break;
 *     len += n;
 *
 * A recv that returns 0 is the end of the stream, the client gone; here it
 * is "nothing yet", and the loop asks again, at once, for ever. So the first
 * client that closes before its head is complete (a readiness probe, a port
 * scanner, a browser's speculative connection) leaves the server spinning a
 * core in that loop, and it never calls accept again: it is still running,
 * still listening, and answers nobody.
 *
 * Everything else is right for stage 1: the head is read whole however it
 * arrives, files go out as bytes with a Content-Length in bytes and the
 * Content-Type of their extension, `/` gives index.html, `%XX` is decoded
 * and the query ignored, realpath keeps every request inside the root, 404
 * with error.html, 400 for what RFC 9112 says to refuse.
 *
 * What it proves: `connects` means serving. The grader's readiness probe
 * (a connection opened and closed with nothing sent) wedges the server
 * before any check, so `connects` fails: its GET is never answered. A fresh
 * server, started with a real request as its probe, serves the other checks;
 * `survives-bad-clients` wedges that one too (its first client says
 * nothing), and the grader restarts it rather than wait out every later
 * check: a stage 1-3 run takes seconds, not minutes. At stage 3 it also
 * fails stage 2's checks, as any server does that serves one client at a
 * time.
 *
 * Expected: at stage 1, fails `connects` and `survives-bad-clients`; at
 * stage 3, `idle-client` and `reverse-order` too.
 */
#define _XOPEN_SOURCE 700

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_HEAD 8192

static char root[PATH_MAX];

/* Writes all of buf, however many writes it takes; -1 if the client left. */
static int write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static const char *content_type(const char *path) {
    const char *dot = strrchr(path, '.');
    if (dot == NULL) return "application/octet-stream";
    if (strcmp(dot, ".html") == 0) return "text/html";
    if (strcmp(dot, ".css") == 0) return "text/css";
    if (strcmp(dot, ".txt") == 0) return "text/plain";
    if (strcmp(dot, ".png") == 0) return "image/png";
    if (strcmp(dot, ".gif") == 0) return "image/gif";
    return "application/octet-stream";
}

static void send_error(int client, const char *status) {
    char response[512];
    int n = snprintf(response, sizeof response,
                     "HTTP/1.1 %s\r\nContent-Type: text/html\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n<h1>%s</h1>\n",
                     status, strlen(status) + 10, status);
    write_all(client, response, (size_t)n);
}

static void send_file(int client, const char *status, const char *path) {
    int file = open(path, O_RDONLY);
    struct stat info;
    if (file < 0 || fstat(file, &info) < 0) {
        if (file >= 0) close(file);
        send_error(client, "404 Not Found");
        return;
    }
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %lld\r\n"
                     "Connection: close\r\n\r\n",
                     status, content_type(path), (long long)info.st_size);
    if (write_all(client, head, (size_t)n) == 0) {
        char buf[8192];
        ssize_t got;
        while ((got = read(file, buf, sizeof buf)) > 0)
            if (write_all(client, buf, (size_t)got) < 0) break;
    }
    close(file);
}

/* Decodes %XX in place; 0 if an escape is bad or makes a NUL. */
static int url_decode(char *s) {
    char *out = s;
    for (; *s; s++) {
        if (*s != '%') {
            *out++ = *s;
            continue;
        }
        if (!isxdigit((unsigned char)s[1]) || !isxdigit((unsigned char)s[2])) return 0;
        char digits[3] = {s[1], s[2], '\0'};
        long byte = strtol(digits, NULL, 16);
        if (byte == 0) return 0;
        *out++ = (char)byte;
        s += 2;
    }
    *out = '\0';
    return 1;
}

/* 1 if the header lines are as RFC 9112 asks. */
static int headers_ok(char *lines, int http11) {
    int hosts = 0;
    char *save = NULL;
    for (char *line = strtok_r(lines, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        char *colon = strchr(line, ':');
        if (colon == NULL || colon == line) return 0;
        for (char *c = line; c < colon; c++)
            if (isspace((unsigned char)*c)) return 0;
        *colon = '\0';
        char *value = colon + 1 + strspn(colon + 1, " \t");
        if (strcasecmp(line, "host") == 0) hosts++;
        if (strcasecmp(line, "content-length") == 0 &&
            (value[0] == '\0' || value[strspn(value, "0123456789")] != '\0'))
            return 0;
    }
    return !http11 || hosts == 1;
}

static void answer(int client, char *head) {
    char *lines = strstr(head, "\r\n");
    if (lines) *lines++ = '\0'; else lines = head + strlen(head);
    char *method = head;
    char *target = strchr(method, ' ');
    char *version = target ? strchr(target + 1, ' ') : NULL;
    if (version == NULL || strchr(version + 1, ' ') != NULL) {
        send_error(client, "400 Bad Request");
        return;
    }
    *target++ = '\0';
    *version++ = '\0';
    int http11 = strcmp(version, "HTTP/1.1") == 0;
    if ((!http11 && strcmp(version, "HTTP/1.0") != 0) || *method == '\0' || *target == '\0' ||
        !headers_ok(lines, http11)) {
        send_error(client, "400 Bad Request");
        return;
    }
    printf("%s %s\n", method, target);
    fflush(stdout);
    if (strcmp(method, "GET") != 0) {
        send_error(client, "405 Method Not Allowed");
        return;
    }
    target[strcspn(target, "?")] = '\0';
    if (!url_decode(target)) {
        send_error(client, "400 Bad Request");
        return;
    }
    char wanted[2 * PATH_MAX], resolved[PATH_MAX], page[PATH_MAX + 16];
    snprintf(page, sizeof page, "%s/error.html", root);
    snprintf(wanted, sizeof wanted, "%s/%s", root, target);
    size_t length = strlen(root);
    struct stat info;
    if (realpath(wanted, resolved) == NULL || strncmp(resolved, root, length) != 0 ||
        (resolved[length] != '/' && resolved[length] != '\0')) {
        send_file(client, "404 Not Found", page);
        return;
    }
    if (stat(resolved, &info) == 0 && S_ISDIR(info.st_mode))
        strncat(resolved, "/index.html", sizeof resolved - strlen(resolved) - 1);
    if (stat(resolved, &info) != 0 || !S_ISREG(info.st_mode)) {
        send_file(client, "404 Not Found", page);
        return;
    }
    send_file(client, "200 OK", resolved);
}

static void serve(int client) {
    char head[MAX_HEAD + 1];
    size_t len = 0;
    head[0] = '\0';
    while (strstr(head, "\r\n\r\n") == NULL) {
        if (len == MAX_HEAD) {
            send_error(client, "431 Request Header Fields Too Large");
            return;
        }
        ssize_t n = recv(client, head + len, MAX_HEAD - len, 0);
        /* The fault: 0, the end of the stream, is taken for "nothing yet". */
        if (n < 0) return;
        len += (size_t)n;
        head[len] = '\0';
        if (strlen(head) != len) { /* a NUL byte: not a request */
            send_error(client, "400 Bad Request");
            return;
        }
    }
    *strstr(head, "\r\n\r\n") = '\0';
    answer(client, head);
}

int main(int argc, char **argv) {
    if (argc != 3 || atoi(argv[1]) <= 0) {
        fprintf(stderr, "usage: %s PORT ROOT\n", argv[0]);
        return 2;
    }
    if (realpath(argv[2], root) == NULL) {
        fprintf(stderr, "error: no such folder: %s\n", argv[2]);
        return 2;
    }
    /* A client that leaves mid-response is an error of its write, not our end. */
    signal(SIGPIPE, SIG_IGN);
    int server = socket(AF_INET, SOCK_STREAM, 0);
    int on = 1;
    setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)atoi(argv[1]));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(server, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(server, 64) < 0) {
        perror("error: cannot listen");
        return 1;
    }
    printf("Serving %s on http://127.0.0.1:%s/\n", root, argv[1]);
    fflush(stdout);
    for (;;) {
        int client = accept(server, NULL, NULL);
        if (client < 0) continue;
        serve(client);
        close(client);
    }
}
