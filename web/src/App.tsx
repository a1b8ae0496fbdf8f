import { QueryClientProvider, type QueryClient } from "@tanstack/react-query";
import { BrowserRouter, Route, Routes } from "react-router";
import { EventStreamProvider } from "./api/EventStreamProvider";
import type { RunEventStream } from "./api/events";
import { Layout } from "./components/Layout";
import { HistoryPage } from "./pages/HistoryPage";
import { LaunchPage } from "./pages/LaunchPage";
import { LivePage } from "./pages/LivePage";
import { MlflowExperimentPage } from "./pages/MlflowExperimentPage";
import { MlflowModelsPage } from "./pages/MlflowModelsPage";
import { MlflowPage } from "./pages/MlflowPage";
import { MlflowRunPage } from "./pages/MlflowRunPage";
import { MlflowVtmRunPage } from "./pages/MlflowVtmRunPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { PipelinesPage } from "./pages/PipelinesPage";
import { RunPage } from "./pages/RunPage";

export function AppRoutes() {
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<LivePage />} />
        <Route path="launch" element={<LaunchPage />} />
        <Route path="launch/:taskId" element={<LaunchPage />} />
        <Route path="runs/:runId" element={<RunPage />} />
        <Route path="history" element={<HistoryPage />} />
        <Route path="mlflow" element={<MlflowPage />} />
        <Route path="mlflow/experiments/:experimentId" element={<MlflowExperimentPage />} />
        <Route path="mlflow/runs/:runId" element={<MlflowRunPage />} />
        <Route path="mlflow/models" element={<MlflowModelsPage />} />
        <Route path="mlflow/vtm/:vtmRunId" element={<MlflowVtmRunPage />} />
        <Route path="pipelines" element={<PipelinesPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}

export function App({ client, stream }: { client: QueryClient; stream: RunEventStream }) {
  return (
    <QueryClientProvider client={client}>
      <EventStreamProvider stream={stream}>
        <BrowserRouter>
          <AppRoutes />
        </BrowserRouter>
      </EventStreamProvider>
    </QueryClientProvider>
  );
}
