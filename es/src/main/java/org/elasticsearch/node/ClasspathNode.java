package org.elasticsearch.node;

import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.plugins.ClasspathPluginsService;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.PluginsLoader;
import org.elasticsearch.plugins.PluginsService;

import java.util.Collection;
import java.util.Map;
import java.util.Set;

/**
 * A node whose plugins come from the class path. NodeConstruction and NodeServiceProvider are
 * package-private, hence this package.
 */
public class ClasspathNode extends Node {
    public ClasspathNode(Settings settings, Collection<Class<? extends Plugin>> plugins) {
        this(new Environment(settings, null), plugins,
            PluginsLoader.createPluginsLoader(Set.of(), Set.of(), Map.of(), false));
    }

    private ClasspathNode(Environment environment, Collection<Class<? extends Plugin>> plugins, PluginsLoader loader) {
        super(NodeConstruction.prepareConstruction(environment, loader, new NodeServiceProvider() {
            @Override
            PluginsService newPluginService(Environment env, PluginsLoader pluginsLoader) {
                return new ClasspathPluginsService(env.settings(), pluginsLoader, plugins);
            }
        }, true));
    }
}
