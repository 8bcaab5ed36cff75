# Figures: one rule per entry of the figure registry (neurosieve.core.registry.FIGURES),
# each rendering PNG + SVG per family, with a caption in the HTML report (snakemake --report);
# a caption reads its figure number from the rule's `number` param.


for _fig in FIGURES:

    rule:
        """One figure of the registry (neurosieve.core.registry.FIGURES) for one family: PNG, SVG and its report caption."""
        name:
            f"figure_{_fig.name}"
        input:
            unpack(lambda w, n=_fig.name: PLAN.figure_inputs(n, w.family)),
        output:
            png=report(
                PATHS.figure("{family}", _fig.name, "png"),
                caption=f"../report/{_fig.name}.rst",
                category=_fig.category,
                subcategory="{family}",
                labels={
                    "figure": f"{_fig.number:02d} {_fig.name}",
                    "family": "{family}",
                },
            ),
            svg=PATHS.figure("{family}", _fig.name, "svg"),
        log:
            PATHS.log("figures", "{family}", _fig.name),
        conda:
            "../../envs/analysis.yaml"
        params:
            figure=_fig.name,
            number=_fig.number,
            settings=lambda w, n=_fig.name: PLAN.figure_settings(n, w.family),
        script:
            "../../scripts/figure.py"


rule neuron_browser:
    """The neuron browser of one family (its figure instance and layer): a self-contained HTML page to pick a ranking and a neuron and see its ranks, labels, extreme tokens and coloured sentences."""
    input:
        unpack(lambda w: PLAN.browser_inputs(w.family)),
    output:
        report(
            PATHS.browser("{family}"),
            caption="../report/neuron_browser.rst",
            category="Neuron browser",
            labels={"page": "neuron browser", "family": "{family}"},
        ),
    log:
        PATHS.log("browser", "{family}"),
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, attempt: 3000 * attempt,
        runtime=lambda w, attempt: 15 * attempt,
    params:
        instance=lambda w: PLAN.fig_instance(w.family),
        layer=lambda w: PLAN.fig_layer(w.family),
        property=lambda w: PLAN.figures["property"],
        settings=settings.BrowserSettings.params(config),
    script:
        "../../scripts/neuron_browser.py"
