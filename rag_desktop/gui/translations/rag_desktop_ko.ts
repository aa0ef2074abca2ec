<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ko_KR" sourcelanguage="en">
    <context>
        <name>About</name>
        <message>
            <source>llama.cpp backend: {backend}</source>
            <translation>llama.cpp 백엔드: {backend}</translation>
        </message>
        <message>
            <source>no model loaded yet</source>
            <translation>아직 불러온 모델 없음</translation>
        </message>
        <message>
            <source>Offline answers from PDF manuals with small local language models.</source>
            <translation>작은 로컬 언어 모델로 PDF 매뉴얼에 대한 질문에 오프라인으로 답합니다.</translation>
        </message>
        <message>
            <source>Licensed under the Apache License 2.0. The app ships third-party software and models under their own licences (llama.cpp MIT, Qt/PySide6 LGPL, SmolLM2 Apache-2.0, Gemma terms, the sample manual GNU FDL).</source>
            <translation>Apache License 2.0으로 배포됩니다. 이 앱에는 각자의 라이선스를 따르는 타사 소프트웨어와 모델이 들어 있습니다(llama.cpp MIT, Qt/PySide6 LGPL, SmolLM2 Apache-2.0, Gemma 약관, 예제 매뉴얼 GNU FDL).</translation>
        </message>
        <message>
            <source>The licence files are in the package's metadata (pip show -f rag-desktop).</source>
            <translation>라이선스 파일은 패키지 메타데이터에 있습니다(pip show -f rag-desktop).</translation>
        </message>
        <message>
            <source>About rag-desktop</source>
            <translation>rag-desktop 정보</translation>
        </message>
    </context>
    <context>
        <name>AnswerBlock</name>
        <message>
            <source>Copy</source>
            <translation>복사</translation>
        </message>
        <message>
            <source>Regenerate</source>
            <translation>다시 생성</translation>
        </message>
        <message>
            <source>Ask this question again with the current model; this answer is kept above the new one</source>
            <translation>현재 모델로 이 질문을 다시 합니다. 이 답변은 새 답변 위에 남습니다</translation>
        </message>
        <message>
            <source>Stop</source>
            <translation>중지</translation>
        </message>
    </context>
    <context>
        <name>AskPanel</name>
        <message>
            <source>Ask a question about your PDFs… (Ctrl+Enter)</source>
            <translation>PDF에 대해 질문하세요… (Ctrl+Enter)</translation>
        </message>
        <message>
            <source>Optional reference answer: shows the cosine similarity</source>
            <translation>참조 답변(선택): 코사인 유사도를 보여 줍니다</translation>
        </message>
        <message>
            <source>Ask</source>
            <translation>질문</translation>
        </message>
        <message>
            <source>Stop</source>
            <translation>중지</translation>
        </message>
        <message>
            <source>&lt;b&gt;Sources&lt;/b&gt; — click one, or a citation such as [1], to see its page</source>
            <translation>&lt;b&gt;출처&lt;/b&gt; — 출처나 [1] 같은 인용을 누르면 해당 페이지가 보입니다</translation>
        </message>
        <message>
            <source>Ask a question about your PDFs. Answers stream here with their sources; earlier conversations are on the left.</source>
            <translation>PDF에 대해 질문하세요. 답변은 출처와 함께 여기에 나타나고, 이전 대화는 왼쪽에 있습니다.</translation>
        </message>
        <message>
            <source>Retrieving and generating…</source>
            <translation>검색하고 생성하는 중…</translation>
        </message>
    </context>
    <context>
        <name>ChatController</name>
        <message>
            <source>Export conversation</source>
            <translation>대화 내보내기</translation>
        </message>
        <message>
            <source>Markdown (*.md);;CSV (*.csv)</source>
            <translation>Markdown (*.md);;CSV (*.csv)</translation>
        </message>
        <message>
            <source>An answer is streaming: stop it first (Esc).</source>
            <translation>답변을 생성하는 중입니다. 먼저 중지하세요(Esc).</translation>
        </message>
    </context>
    <context>
        <name>Column</name>
        <message>
            <source>run_id</source>
            <translation>실행 ID</translation>
        </message>
        <message>
            <source>started_at</source>
            <translation>시작 시각</translation>
        </message>
        <message>
            <source>model_id</source>
            <translation>모델 ID</translation>
        </message>
        <message>
            <source>model_file</source>
            <translation>모델 파일</translation>
        </message>
        <message>
            <source>quant</source>
            <translation>양자화</translation>
        </message>
        <message>
            <source>n_gpu_layers</source>
            <translation>GPU 레이어 수</translation>
        </message>
        <message>
            <source>backend</source>
            <translation>백엔드</translation>
        </message>
        <message>
            <source>n_threads</source>
            <translation>스레드 수</translation>
        </message>
        <message>
            <source>config</source>
            <translation>구성</translation>
        </message>
        <message>
            <source>bm25_weight</source>
            <translation>BM25 가중치</translation>
        </message>
        <message>
            <source>k</source>
            <translation>k</translation>
        </message>
        <message>
            <source>question_id</source>
            <translation>질문 ID</translation>
        </message>
        <message>
            <source>question</source>
            <translation>질문</translation>
        </message>
        <message>
            <source>answer</source>
            <translation>답변</translation>
        </message>
        <message>
            <source>reference_answer</source>
            <translation>참조 답변</translation>
        </message>
        <message>
            <source>cosine</source>
            <translation>코사인</translation>
        </message>
        <message>
            <source>page_hit</source>
            <translation>페이지 적중</translation>
        </message>
        <message>
            <source>first_hit_rank</source>
            <translation>첫 적중 순위</translation>
        </message>
        <message>
            <source>refused</source>
            <translation>거절</translation>
        </message>
        <message>
            <source>response_time_s</source>
            <translation>응답 시간(초)</translation>
        </message>
        <message>
            <source>retrieval_s</source>
            <translation>검색 시간(초)</translation>
        </message>
        <message>
            <source>first_token_s</source>
            <translation>첫 토큰(초)</translation>
        </message>
        <message>
            <source>generation_s</source>
            <translation>생성 시간(초)</translation>
        </message>
        <message>
            <source>prompt_tokens</source>
            <translation>프롬프트 토큰</translation>
        </message>
        <message>
            <source>completion_tokens</source>
            <translation>생성 토큰</translation>
        </message>
        <message>
            <source>tokens_per_s</source>
            <translation>토큰/초</translation>
        </message>
        <message>
            <source>cache_hit</source>
            <translation>캐시 적중</translation>
        </message>
        <message>
            <source>error</source>
            <translation>오류</translation>
        </message>
        <message>
            <source>ref_pages</source>
            <translation>참조 페이지</translation>
        </message>
        <message>
            <source>source_pages</source>
            <translation>출처 페이지</translation>
        </message>
        <message>
            <source>grounded</source>
            <translation>근거 비율</translation>
        </message>
        <message>
            <source>n</source>
            <translation>개수</translation>
        </message>
        <message>
            <source>errors</source>
            <translation>오류 수</translation>
        </message>
        <message>
            <source>response_time_mean_s</source>
            <translation>평균 응답 시간(초)</translation>
        </message>
        <message>
            <source>response_time_median_s</source>
            <translation>응답 시간 중앙값(초)</translation>
        </message>
        <message>
            <source>response_time_p95_s</source>
            <translation>응답 시간 p95(초)</translation>
        </message>
        <message>
            <source>tokens_per_s_mean</source>
            <translation>평균 토큰/초</translation>
        </message>
        <message>
            <source>cosine_mean</source>
            <translation>평균 코사인</translation>
        </message>
        <message>
            <source>page_hit_rate</source>
            <translation>페이지 적중률</translation>
        </message>
        <message>
            <source>refusal_accuracy</source>
            <translation>거절 정확도</translation>
        </message>
        <message>
            <source>cache_hits</source>
            <translation>캐시 적중 수</translation>
        </message>
        <message>
            <source>grounded_mean</source>
            <translation>평균 근거 비율</translation>
        </message>
        <message>
            <source>Name</source>
            <translation>이름</translation>
        </message>
        <message>
            <source>Pages</source>
            <translation>페이지</translation>
        </message>
        <message>
            <source>Chunks</source>
            <translation>청크</translation>
        </message>
        <message>
            <source>Added</source>
            <translation>추가한 날짜</translation>
        </message>
        <message>
            <source>Status</source>
            <translation>상태</translation>
        </message>
        <message>
            <source>True</source>
            <translation>예</translation>
        </message>
        <message>
            <source>False</source>
            <translation>아니요</translation>
        </message>
    </context>
    <context>
        <name>ConversationList</name>
        <message>
            <source>Search titles</source>
            <translation>제목 검색</translation>
        </message>
        <message>
            <source>New conversation</source>
            <translation>새 대화</translation>
        </message>
        <message>
            <source>Rename</source>
            <translation>이름 바꾸기</translation>
        </message>
        <message>
            <source>Delete</source>
            <translation>삭제</translation>
        </message>
        <message>
            <source>Export</source>
            <translation>내보내기</translation>
        </message>
        <message>
            <source>Save the conversation as Markdown or CSV</source>
            <translation>대화를 Markdown 또는 CSV로 저장</translation>
        </message>
        <message>
            <source>(untitled)</source>
            <translation>(제목 없음)</translation>
        </message>
        <message>
            <source>{0} turns · last change {1}</source>
            <translation>질문 {0}개 · 마지막 수정 {1}</translation>
        </message>
    </context>
    <context>
        <name>EvalCharts</name>
        <message>
            <source>, BM25 weight {weight}</source>
            <translation>, BM25 가중치 {weight}</translation>
        </message>
        <message>
            <source> ({fusion} fusion)</source>
            <translation> ({fusion} 융합)</translation>
        </message>
        <message>
            <source>Questions:</source>
            <translation>질문:</translation>
        </message>
        <message>
            <source>Cosine to the reference, per question</source>
            <translation>질문별 참조 답변과의 코사인</translation>
        </message>
        <message>
            <source>cosine</source>
            <translation>코사인</translation>
        </message>
        <message>
            <source>Mean response time per configuration</source>
            <translation>구성별 평균 응답 시간</translation>
        </message>
        <message>
            <source>mean total</source>
            <translation>전체 평균</translation>
        </message>
        <message>
            <source>seconds</source>
            <translation>초</translation>
        </message>
    </context>
    <context>
        <name>EvalPanel</name>
        <message>
            <source>Normalised scores (default)</source>
            <translation>정규화 점수 (기본값)</translation>
        </message>
        <message>
            <source>Reciprocal rank (EnsembleRetriever, as specified)</source>
            <translation>역순위 (EnsembleRetriever, 명세대로)</translation>
        </message>
        <message>
            <source>Both, side by side</source>
            <translation>둘 다 나란히</translation>
        </message>
        <message>
            <source>Evaluating</source>
            <translation>평가 중</translation>
        </message>
        <message>
            <source>starting</source>
            <translation>시작하는 중</translation>
        </message>
        <message>
            <source>resuming</source>
            <translation>이어서 하는 중</translation>
        </message>
        <message>
            <source>done</source>
            <translation>완료</translation>
        </message>
        <message>
            <source>Choose a question file</source>
            <translation>질문 파일 선택</translation>
        </message>
        <message>
            <source>all</source>
            <translation>전체</translation>
        </message>
        <message>
            <source>Run evaluation</source>
            <translation>평가 실행</translation>
        </message>
        <message>
            <source>Cancel</source>
            <translation>취소</translation>
        </message>
        <message>
            <source>Export CSV…</source>
            <translation>CSV 내보내기…</translation>
        </message>
        <message>
            <source>Questions</source>
            <translation>질문</translation>
        </message>
        <message>
            <source>Models</source>
            <translation>모델</translation>
        </message>
        <message>
            <source>BM25 weights</source>
            <translation>BM25 가중치</translation>
        </message>
        <message>
            <source>Fusion</source>
            <translation>융합 방식</translation>
        </message>
        <message>
            <source>k</source>
            <translation>k</translation>
        </message>
        <message>
            <source>Max tokens</source>
            <translation>최대 토큰</translation>
        </message>
        <message>
            <source>Limit questions</source>
            <translation>질문 수 제한</translation>
        </message>
        <message>
            <source>Filter rows (any column)…</source>
            <translation>행 필터 (모든 열)…</translation>
        </message>
        <message>
            <source>Results</source>
            <translation>결과</translation>
        </message>
        <message>
            <source>Summary</source>
            <translation>요약</translation>
        </message>
        <message>
            <source>Charts</source>
            <translation>차트</translation>
        </message>
        <message>
            <source>Question file</source>
            <translation>질문 파일</translation>
        </message>
        <message>
            <source>Questions (*.jsonl *.csv)</source>
            <translation>질문 파일 (*.jsonl *.csv)</translation>
        </message>
        <message>
            <source>Tick at least one model.</source>
            <translation>모델을 하나 이상 선택하세요.</translation>
        </message>
        <message>
            <source>Export the evaluation to a folder</source>
            <translation>평가 결과를 내보낼 폴더</translation>
        </message>
        <message>
            <source>Running…</source>
            <translation>실행 중…</translation>
        </message>
        <message>
            <source>{n} rows, cancelled.</source>
            <translation>{n}행, 취소됨.</translation>
        </message>
        <message>
            <source>{n} rows, done.</source>
            <translation>{n}행, 완료.</translation>
        </message>
        <message>
            <source>The last run ({n} rows, {when}), reloaded from {where}.</source>
            <translation>지난 실행({n}행, {when})을 {where}에서 다시 불러왔습니다.</translation>
        </message>
        <message>
            <source>The last run ({n} rows), reloaded from {where}.</source>
            <translation>지난 실행({n}행)을 {where}에서 다시 불러왔습니다.</translation>
        </message>
    </context>
    <context>
        <name>JobsView</name>
        <message>
            <source>running</source>
            <translation>실행 중</translation>
        </message>
        <message>
            <source>waiting</source>
            <translation>대기 중</translation>
        </message>
        <message>
            <source>Cancelling…</source>
            <translation>취소하는 중…</translation>
        </message>
        <message>
            <source>Cancel</source>
            <translation>취소</translation>
        </message>
    </context>
    <context>
        <name>Language</name>
        <message>
            <source>System</source>
            <translation>시스템 설정</translation>
        </message>
    </context>
    <context>
        <name>LibraryPanel</name>
        <message>
            <source>Reading pages</source>
            <translation>페이지 읽는 중</translation>
        </message>
        <message>
            <source>Embedding chunks</source>
            <translation>청크 임베딩 중</translation>
        </message>
        <message>
            <source>Saving</source>
            <translation>저장 중</translation>
        </message>
        <message>
            <source>Files</source>
            <translation>파일</translation>
        </message>
        <message>
            <source>ok</source>
            <translation>정상</translation>
        </message>
        <message>
            <source>failed</source>
            <translation>실패</translation>
        </message>
        <message>
            <source>New library…</source>
            <translation>새 라이브러리…</translation>
        </message>
        <message>
            <source>Add PDFs…</source>
            <translation>PDF 추가…</translation>
        </message>
        <message>
            <source>Add folder…</source>
            <translation>폴더 추가…</translation>
        </message>
        <message>
            <source>Remove</source>
            <translation>제거</translation>
        </message>
        <message>
            <source>Library:</source>
            <translation>라이브러리:</translation>
        </message>
        <message>
            <source>Drop PDF files or folders here, or press Ctrl+O.</source>
            <translation>PDF 파일이나 폴더를 여기에 끌어다 놓거나 Ctrl+O를 누르세요.</translation>
        </message>
        <message>
            <source>Cancel</source>
            <translation>취소</translation>
        </message>
        <message>
            <source>New library</source>
            <translation>새 라이브러리</translation>
        </message>
        <message>
            <source>Name of the new library:</source>
            <translation>새 라이브러리 이름:</translation>
        </message>
        <message>
            <source>{n} added</source>
            <translation>{n}개 추가됨</translation>
        </message>
        <message>
            <source>{n} already there</source>
            <translation>{n}개는 이미 있음</translation>
        </message>
        <message>
            <source>{n} failed</source>
            <translation>{n}개 실패</translation>
        </message>
        <message>
            <source>cancelled</source>
            <translation>취소됨</translation>
        </message>
        <message>
            <source>Remove documents</source>
            <translation>문서 제거</translation>
        </message>
        <message>
            <source>Remove from the library?

{names}

The PDF files themselves are not deleted.</source>
            <translation>라이브러리에서 제거할까요?

{names}

PDF 파일 자체는 삭제되지 않습니다.</translation>
        </message>
        <message>
            <source>Add PDFs</source>
            <translation>PDF 추가</translation>
        </message>
        <message>
            <source>PDF files (*.pdf)</source>
            <translation>PDF 파일 (*.pdf)</translation>
        </message>
        <message>
            <source>Add a folder of PDFs</source>
            <translation>PDF 폴더 추가</translation>
        </message>
        <message>
            <source>Starting…</source>
            <translation>시작하는 중…</translation>
        </message>
    </context>
    <context>
        <name>SettingsDialog</name>
        <message>
            <source>Normalised scores (default)</source>
            <translation>정규화 점수 (기본값)</translation>
        </message>
        <message>
            <source>Reciprocal rank, LangChain EnsembleRetriever (as specified)</source>
            <translation>역순위, LangChain EnsembleRetriever (명세대로)</translation>
        </message>
        <message>
            <source>The specified BM25 0.3 / dense 0.7 reciprocal-rank fusion lets BM25 only reorder the dense leg's top 20: on the dev manuals it found fewer reference pages in the top 4 (LilyPond 0.85, R-admin 0.83) than the default (0.92, 0.86), which mixes normalised scores and keeps each leg's best hit. docs/retrieval.md has every number.</source>
            <translation>명세의 BM25 0.3 / 밀집 0.7 역순위 융합에서는 BM25가 밀집 검색 상위 20개의 순서만 바꿉니다. 개발용 매뉴얼에서 이 방식은 상위 4개 안에서 찾은 참조 페이지가 기본값(0.92, 0.86)보다 적었습니다(LilyPond 0.85, R-admin 0.83). 기본값은 정규화한 점수를 섞고 각 검색의 최상위 결과를 지킵니다. 모든 수치는 docs/retrieval.md에 있습니다.</translation>
        </message>
        <message>
            <source>Settings</source>
            <translation>설정</translation>
        </message>
        <message>
            <source>all (auto)</source>
            <translation>전부 (자동)</translation>
        </message>
        <message>
            <source>The llama.cpp build in use has no GPU backend; every layer runs on the CPU whatever this is set to.</source>
            <translation>사용 중인 llama.cpp 빌드에는 GPU 백엔드가 없습니다. 이 값과 상관없이 모든 레이어가 CPU에서 실행됩니다.</translation>
        </message>
        <message>
            <source>auto</source>
            <translation>자동</translation>
        </message>
        <message>
            <source>say "not in the documents" when nothing relevant is found</source>
            <translation>관련 내용이 없으면 "문서에 없음"이라고 답하기</translation>
        </message>
        <message>
            <source>GPU layers (n_gpu_layers)</source>
            <translation>GPU 레이어 (n_gpu_layers)</translation>
        </message>
        <message>
            <source>CPU threads</source>
            <translation>CPU 스레드</translation>
        </message>
        <message>
            <source>Context size (tokens)</source>
            <translation>컨텍스트 크기 (토큰)</translation>
        </message>
        <message>
            <source>Temperature</source>
            <translation>온도</translation>
        </message>
        <message>
            <source>Max answer tokens</source>
            <translation>답변 최대 토큰</translation>
        </message>
        <message>
            <source>Chunks retrieved (k)</source>
            <translation>검색할 청크 수 (k)</translation>
        </message>
        <message>
            <source>BM25 weight (dense = 1 − w)</source>
            <translation>BM25 가중치 (밀집 = 1 − w)</translation>
        </message>
        <message>
            <source>Fusion</source>
            <translation>융합 방식</translation>
        </message>
        <message>
            <source>Relevance gate</source>
            <translation>관련성 게이트</translation>
        </message>
        <message>
            <source>Embedding model (new libraries)</source>
            <translation>임베딩 모델 (새 라이브러리)</translation>
        </message>
        <message>
            <source>Language</source>
            <translation>언어</translation>
        </message>
        <message>
            <source>GPU layers, threads and context size apply when the model is loaded again (done for you on OK). The language applies when rag-desktop starts again.</source>
            <translation>GPU 레이어, 스레드, 컨텍스트 크기는 모델을 다시 불러올 때 적용됩니다(확인을 누르면 자동으로 다시 불러옵니다). 언어는 rag-desktop을 다시 시작하면 적용됩니다.</translation>
        </message>
    </context>
    <context>
        <name>Status</name>
        <message>
            <source>CPU only (this llama.cpp build cannot offload)</source>
            <translation>CPU 전용 (이 llama.cpp 빌드는 GPU로 오프로드할 수 없음)</translation>
        </message>
        <message>
            <source>Ready: ask a question about your PDFs.</source>
            <translation>준비 완료: PDF에 대해 질문하세요.</translation>
        </message>
        <message>
            <source>GPU layers: none, {cpu_only}</source>
            <translation>GPU 레이어: 없음, {cpu_only}</translation>
        </message>
        <message>
            <source>GPU layers: {layers}</source>
            <translation>GPU 레이어: {layers}</translation>
        </message>
        <message>
            <source>No model</source>
            <translation>모델 없음</translation>
        </message>
        <message>
            <source>No library</source>
            <translation>라이브러리 없음</translation>
        </message>
        <message>
            <source>Library: {name} (1 document)</source>
            <translation>라이브러리: {name} (문서 1개)</translation>
        </message>
        <message>
            <source>Library: {name} ({n} documents)</source>
            <translation>라이브러리: {name} (문서 {n}개)</translation>
        </message>
        <message>
            <source>Model: {id} ({quant})</source>
            <translation>모델: {id} ({quant})</translation>
        </message>
        <message>
            <source>Backend: {backend}</source>
            <translation>백엔드: {backend}</translation>
        </message>
        <message>
            <source>Model: {id} — not loaded</source>
            <translation>모델: {id} — 불러오지 않음</translation>
        </message>
        <message>
            <source>The model runner stopped; the next question loads the model again.</source>
            <translation>모델 실행기가 멈췄습니다. 다음 질문 때 모델을 다시 불러옵니다.</translation>
        </message>
        <message>
            <source>Opening library {name}…</source>
            <translation>라이브러리 {name} 여는 중…</translation>
        </message>
        <message>
            <source>Loading model {name}…</source>
            <translation>모델 {name} 불러오는 중…</translation>
        </message>
        <message>
            <source>Indexing the sample manual (first start only)…</source>
            <translation>예제 매뉴얼 색인 중 (첫 실행 때만)…</translation>
        </message>
    </context>
    <context>
        <name>parent</name>
        <message>
            <source>Rename conversation</source>
            <translation>대화 이름 바꾸기</translation>
        </message>
        <message>
            <source>Title:</source>
            <translation>제목:</translation>
        </message>
        <message>
            <source>Delete conversation</source>
            <translation>대화 삭제</translation>
        </message>
        <message>
            <source>Delete “{0}” and all its answers? This cannot be undone.</source>
            <translation>“{0}” 대화와 모든 답변을 삭제할까요? 되돌릴 수 없습니다.</translation>
        </message>
    </context>
</TS>
