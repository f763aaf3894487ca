package yuqing.es;

import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.http.HttpServerTransport;
import org.elasticsearch.node.ClasspathNode;
import org.elasticsearch.node.Node;
import org.elasticsearch.transport.netty4.Netty4Plugin;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Starts one bare Elasticsearch node in this JVM: 127.0.0.1 only, single-node discovery, no
 * security (the server jar has none), HTTP through transport-netty4.
 *
 * Usage: Launcher HOME_DIR URL_FILE [HTTP_PORT]. HTTP_PORT 0 (default) takes a free port; the
 * node's URL is written to URL_FILE (atomically) once it answers, and removed on shutdown.
 */
public final class Launcher {
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: Launcher HOME_DIR URL_FILE [HTTP_PORT]");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        Path urlFile = Path.of(args[1]).toAbsolutePath();
        String port = args.length > 2 ? args[2] : "0";
        Files.createDirectories(home.resolve("config"));
        Files.createDirectories(home.resolve("data"));
        Files.createDirectories(home.resolve("logs"));

        Settings settings = Settings.builder()
            .put("node.name", "yuqing-dev")
            .put("cluster.name", "yuqing-dev")
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("network.host", "127.0.0.1")
            .put("http.port", port)
            .put("transport.port", "0")
            .put("discovery.type", "single-node")
            // A shared development disk is often over the 90% watermark; the node would then
            // refuse to allocate shards and every index request would hang.
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .build();
        LogConfigurator.configureWithoutConfig(settings);

        long started = System.nanoTime();
        Node node = new ClasspathNode(settings, List.of(Netty4Plugin.class, RootInfoPlugin.class));
        node.start();
        HttpServerTransport http = node.injector().getInstance(HttpServerTransport.class);
        var address = http.boundAddress().publishAddress();
        String url = "http://" + address.getAddress() + ":" + address.getPort();

        Path tmp = urlFile.resolveSibling(urlFile.getFileName() + ".tmp");
        Files.writeString(tmp, url + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, urlFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        System.out.printf("yuqing-es: node up at %s in %.1f s%n", url, (System.nanoTime() - started) / 1e9);
        System.out.flush();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                Files.deleteIfExists(urlFile);
                node.close();
                node.awaitClose(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "yuqing-es-shutdown"));
        stopped.await();
    }

    private Launcher() {
    }
}
