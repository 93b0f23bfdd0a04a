// This stage-4 server, in Java with java.net alone: a thread per client,
// the head read until its blank line, the site's error.html for a 404, 400
// for a malformed request, and Ctrl-C that stops accepting and waits up to 5 s
// for the clients under way (in a shutdown hook, which then halts with 0: the
// JVM would otherwise exit with 130 after a SIGINT).
//
//     javac -d classes *.java && java -cp classes Server PORT ROOT
//
// It reads text files (HTML, CSS, plain text) a line at a time with a
// BufferedReader, and writes each line back with "\n": a file with "\r\n"
// line ends comes back with "\n" ones. (Its Content-Length is counted on
// what is sent, so it is right.)
//
// Expected: fails `text-files`, and nothing else at stages 1-4: the
// concurrency checks tell their answers apart by a token in the file, not by
// its line ends.

import java.io.*;
import java.net.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.concurrent.atomic.AtomicInteger;

public class Server {
    static Path root;
    static final AtomicInteger busy = new AtomicInteger();
    static volatile boolean stopping = false;

    static void reply(OutputStream out, String status, String type, byte[] body) throws IOException {
        String head = "HTTP/1.1 " + status + "\r\nContent-Type: " + type + "\r\nContent-Length: " + body.length
                + "\r\nConnection: close\r\n\r\n";
        out.write(head.getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
    }

    static String typeOf(String name) {
        if (name.endsWith(".html")) return "text/html";
        if (name.endsWith(".css")) return "text/css";
        if (name.endsWith(".txt")) return "text/plain";
        if (name.endsWith(".png")) return "image/png";
        return "application/octet-stream";
    }

    /** A text file, a line at a time. */
    static byte[] readText(Path file) throws IOException {
        StringBuilder text = new StringBuilder();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            while ((line = in.readLine()) != null) text.append(line).append("\n");
        }
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The head, up to its blank line; null if the client hung up first. */
    static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int b, matched = 0;
        while ((b = in.read()) != -1) {
            head.write(b);
            matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
            if (matched == 4) return head.toString(StandardCharsets.ISO_8859_1);
            if (head.size() > 65536) return null;
        }
        return null;
    }

    /** The target of a well-formed request, or null. */
    static String target(String head) {
        String[] lines = head.split("\r\n");
        String[] parts = lines[0].split(" ", -1);
        if (parts.length != 3 || !parts[1].startsWith("/")) return null;
        if (!parts[2].equals("HTTP/1.1") && !parts[2].equals("HTTP/1.0")) return null;
        int hosts = 0;
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon <= 0) return null;
            String name = lines[i].substring(0, colon);
            if (!name.equals(name.trim())) return null;
            if (name.equalsIgnoreCase("host")) hosts++;
            if (name.equalsIgnoreCase("content-length") && !lines[i].substring(colon + 1).trim().matches("[0-9]+"))
                return null;
        }
        if (parts[2].equals("HTTP/1.1") && hosts != 1) return null;
        return parts[1];
    }

    static void serve(Socket socket) {
        try (socket) {
            socket.setSoTimeout(10_000);
            OutputStream out = new BufferedOutputStream(socket.getOutputStream());
            String head = readHead(socket.getInputStream());
            if (head == null) return;
            byte[] bad = "<h1>400 Bad Request</h1>\n".getBytes(StandardCharsets.UTF_8);
            String target = target(head);
            if (target == null) { reply(out, "400 Bad Request", "text/html", bad); return; }
            String path;
            try {
                path = URLDecoder.decode(target.split("\\?")[0].replace("+", "%2B"), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) { reply(out, "400 Bad Request", "text/html", bad); return; }
            if (path.contains("\\") || path.contains("\0") || ("/" + path + "/").contains("/../")) {
                reply(out, "400 Bad Request", "text/html", bad);
                return;
            }
            Path file = root.resolve(path.substring(1)).normalize();
            if (Files.isDirectory(file)) file = file.resolve("index.html");
            if (!file.startsWith(root) || !Files.isRegularFile(file)) {
                reply(out, "404 Not Found", "text/html", Files.readAllBytes(root.resolve("error.html")));
                return;
            }
            String type = typeOf(file.toString());
            byte[] body = type.startsWith("text/") ? readText(file) : Files.readAllBytes(file);
            reply(out, "200 OK", type, body);
        } catch (IOException | InvalidPathException e) {
            // the client went away, or sent a path no file can have
        }
    }

    public static void main(String[] args) throws IOException {
        root = Paths.get(args[1]).toRealPath();
        ServerSocket listener = new ServerSocket(Integer.parseInt(args[0]), 128, InetAddress.getLoopbackAddress());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stopping = true;
            try { listener.close(); } catch (IOException e) { }
            long deadline = System.currentTimeMillis() + 5000;
            while (busy.get() > 0 && System.currentTimeMillis() < deadline) {
                try { Thread.sleep(10); } catch (InterruptedException e) { break; }
            }
            Runtime.getRuntime().halt(0);
        }));
        while (!stopping) {
            Socket socket;
            try { socket = listener.accept(); } catch (IOException e) { break; }
            busy.incrementAndGet();
            Thread worker = new Thread(() -> { try { serve(socket); } finally { busy.decrementAndGet(); } });
            worker.setDaemon(true);
            worker.start();
        }
    }
}
