// The parts of Apache ECharts the console draws with, and nothing else: esbuild bundles this
// into static/vendor/echarts-console.min.js (see build.mjs), exposed as window.echarts.
import * as echarts from "echarts/core";
import { LineChart, ScatterChart, ParallelChart, HeatmapChart, BarChart, CustomChart } from "echarts/charts";
import {
  GridComponent, TooltipComponent, LegendComponent, DataZoomComponent,
  VisualMapComponent, ParallelComponent, TitleComponent,
} from "echarts/components";
import { SVGRenderer } from "echarts/renderers";

echarts.use([
  LineChart, ScatterChart, ParallelChart, HeatmapChart, BarChart, CustomChart,
  GridComponent, TooltipComponent, LegendComponent, DataZoomComponent,
  VisualMapComponent, ParallelComponent, TitleComponent, SVGRenderer,
]);

window.echarts = echarts;
