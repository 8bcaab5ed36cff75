# Figures: one rule per figure, each rendering PNG + SVG per family, with a
# caption in the HTML report (snakemake --report).


for _name, (_number, _category, _need) in FIGURES.items():

    rule:
        name:
            f"figure_{_name}"
        input:
            unpack(lambda w, n=_name: figure_inputs(n, w.family)),
        output:
            png=report(
                f"{OUT}/figures/{{family}}/fig{_number:02d}_{_name}.png",
                caption=f"../report/{_name}.rst",
                category=_category,
                subcategory="{family}",
                labels={"figure": f"{_number:02d} {_name}", "family": "{family}"},
            ),
            svg=f"{OUT}/figures/{{family}}/fig{_number:02d}_{_name}.svg",
        log:
            f"{OUT}/logs/figures/{{family}}/{_name}.log",
        conda:
            "../../envs/analysis.yaml"
        params:
            figure=_name,
            settings=lambda w, n=_name: figure_settings(n, w.family),
        script:
            "../../scripts/figure.py"
